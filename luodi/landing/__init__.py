"""落地 Landing: deals and technology contracts, landed entities, and the statistics over them."""
