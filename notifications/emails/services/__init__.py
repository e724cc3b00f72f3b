"""Every write of customer e-mails: rendering and sending (customer_emails.py), what triggers them
(email_triggers.py), the merchant's templates and settings (email_templates.py); the restricted template
engine (email_context.py, email_library.py)."""
