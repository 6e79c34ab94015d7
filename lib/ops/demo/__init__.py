"""Demo data: word lists (words.py), the generator of customers a user would type
(generator.py) and the bulk loader that validates, builds and inserts them (loader.py)."""
