"""Users, passwords, sessions, API tokens and CSRF."""
