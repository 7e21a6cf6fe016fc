"""Contact and support: tickets filed through the public forms, and their spam guard."""
