"""What both doors show the same way, ready for their templates; no door imports another, so
what the patient pages and the staff pages share lives here."""
