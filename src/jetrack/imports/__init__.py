"""Imports: other tools' data (server logs, GoatCounter, Umami) into Jetrack events."""
