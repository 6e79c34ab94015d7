"""Labels of the business pages: entry form, customers grid, analytics (zh / en)."""

PAGES: dict[str, dict[str, str]] = {}
