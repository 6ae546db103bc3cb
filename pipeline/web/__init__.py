"""The worker's web server: pages for people, JSON twins for programs, and HTTP ingest."""
