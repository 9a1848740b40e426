from django.db.models import Q

from ledger.crypto import new_subject_key

from .models import Customer


def match_or_create_customer(*, name: str, phone: str, email: str, address: str = "") -> Customer:
    """The customer with this normalised phone or e-mail, or a new one. Inputs are already normalised."""
    if phone or email:
        query = Q()
        if phone:
            query |= Q(phone=phone)
        if email:
            query |= Q(email=email)
        # An erased person (key destroyed) is never matched again: a new contact starts a new profile.
        customer = Customer.objects.filter(query, subject_key__shredded_at__isnull=True).order_by("id").first()
        if customer is not None:
            changed = []
            for field, value in (("name", name), ("phone", phone), ("email", email), ("address", address)):
                if value and not getattr(customer, field):
                    setattr(customer, field, value)
                    changed.append(field)
            if changed:
                customer.save(update_fields=changed)
            return customer
    return Customer.objects.create(name=name, phone=phone, email=email, address=address, subject_key=new_subject_key())
