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
