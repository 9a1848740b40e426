from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import Department
        from core import configcache

        from .models import Category, SlaPolicy

        for model in (Department, SlaPolicy, Category):
            post_save.connect(configcache.clear, sender=model, dispatch_uid=f"configcache-save-{model.__name__}")
            post_delete.connect(configcache.clear, sender=model, dispatch_uid=f"configcache-del-{model.__name__}")
