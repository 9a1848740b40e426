# Customer profiles, orders, service records, care actions and import reports hold personal data:
# they are not in the Django admin, whose users (the admin role) see no case content without a case
# role (DESIGN.md §1). Staff work with them through /staff/customers/ (customers.access).
