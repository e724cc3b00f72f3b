"""Every write of the billing app. See the modules: invoicing, charging, billing_run, refunds."""
