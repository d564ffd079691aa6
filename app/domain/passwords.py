"""What makes a password acceptable. Pure: no hashing, no storage.

The rules follow NIST SP 800-63B: a minimum length, no composition rules (they make
people write "Password1!"), and a refusal of passwords that attackers try first —
the account's own e-mail address and the most common choices.
"""

from __future__ import annotations

import re
from itertools import pairwise

MIN_LENGTH = 12
MAX_LENGTH = 200  # the forms cap it too; Argon2 would accept more, a 1 MB "password" is an attack

# Long passwords that still top breach lists, lower-cased. Shorter favourites are
# already refused by MIN_LENGTH.
COMMON_PASSWORDS = frozenset({
    "123456789012", "1234567890123", "12345678910111", "123123123123", "123456123456",
    "111111111111", "000000000000", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qwertyuiopas",
    "qwerty123456", "qwertyuiop12", "qwertyqwerty", "asdfghjkl123", "zxcvbnm12345",
    "password1234", "password12345", "password123!", "passwordpassword", "p@ssw0rd1234",
    "iloveyou1234", "letmein12345", "welcome12345", "welcome@1234", "changeme1234",
    "administrator", "abcdefghijkl", "abcd1234abcd", "abc123abc123", "football1234",
    "baseball1234", "sunshine1234", "princess1234", "trustno1trustno1", "orderdeck123",
})

# Words that stay guessable whatever digits or punctuation are stuck on either end.
COMMON_WORDS = frozenset({
    "password", "passw0rd", "p@ssw0rd", "qwerty", "qwertyuiop", "letmein", "welcome", "admin",
    "administrator", "changeme", "iloveyou", "monkey", "dragon", "football", "baseball",
    "sunshine", "princess", "master", "shadow", "superman", "trustno", "orderdeck", "secret",
})

_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` is refused, as a sentence for the person choosing it; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    lowered = password.strip().lower()
    if email:
        address = email.strip().lower()
        if lowered in {address, address.split("@")[0]}:
            return "The password must not be the e-mail address."
    if len(set(lowered)) <= 2:
        return "The password repeats the same characters; choose something less predictable."
    if lowered in COMMON_PASSWORDS or _EDGES.sub("", lowered) in COMMON_WORDS:
        return "That password is one of the first that attackers try; choose another."
    if _is_run(lowered):
        return "The password is a simple sequence; choose something less predictable."
    return None


def _is_run(text: str) -> bool:
    """'abcdefghijkl', '987654321098': each character one step from the last."""
    steps = {(ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
             for a, b in pairwise(text)}
    return steps in ({1}, {-1}, {9})
