"""Notificações > E-mails: the e-mails sent to a merchant's customers (what triggers them, their editable
templates rendered by a restricted engine, the log of every e-mail sent)."""
