"""The web dashboard (static files in static/, served at /ui/ by router.py)."""
