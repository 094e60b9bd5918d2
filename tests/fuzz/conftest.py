"""The admin area's accounts and fast password hashing, for fuzzing its pages too."""

from tests.admin.conftest import people, quick_password_hashing  # noqa: F401 - fixtures shared with tests/admin
