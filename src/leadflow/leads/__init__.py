"""Leads: contact data, source, consent, timeline; their import and export."""
