"""The subscription lifecycle services, one file per service: contract (`subscription_create`), edit,
cancel (with its preview), remove, re-add and delete.

Clocks are moved with time-machine; "now" is 15/03/2027 14:00 in São Paulo unless a test says otherwise.
"""
