"""对接 Docking: cases from interest to agreement, brokers, meetings and docking events."""
