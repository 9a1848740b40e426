"""Idempotent public intake: a retry with the same Idempotency-Key returns the original response."""

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    key = models.CharField(max_length=200, unique=True)
    # SHA-256 of the request body: the same key with another body is refused.
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The original response, encrypted with a key derived from SECRET_KEY and the idempotency key,
    # since it holds the access code, which is otherwise stored only hashed.
    response = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)


class RecoveryCode(models.Model):
    """A one-time code, sent to the complaint's e-mail, that issues a new access code when it is lost."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
