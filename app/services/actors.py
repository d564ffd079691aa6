"""Who is doing something: a person, an API token, a job or the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    label: str  # what the audit log shows: "user:ana@example.com", "job:heartbeat", …
    user_id: int | None = None
    role: str | None = None

    @classmethod
    def for_user(cls, user, *, via: str = "user") -> Actor:
        return cls(label=f"{via}:{user.email}", user_id=user.id, role=user.role)

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(label=f"job:{name}")

    @classmethod
    def cli(cls) -> Actor:
        return cls(label="cli")

    @property
    def display(self) -> str:
        return self.label.split(":", 1)[-1]


SYSTEM = Actor(label="system")
