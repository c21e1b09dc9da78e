"""Inventory (清单): achievements, demands, enterprises and the lists that publish them."""
