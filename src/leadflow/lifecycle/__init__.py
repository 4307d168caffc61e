"""Lifecycle stages and the one function that moves a lead between them."""
