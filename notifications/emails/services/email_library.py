"""The only tags and filters a merchant's e-mail template can use: the restricted engine's builtins.

Django's full builtins include loops over anything (`{% for c in "…8.000 caracteres…" %}` nested twice
took 29.5 s) and filters whose output has no bound (`center:'50000000'` returned 25 MB; `add`, `join`,
`ljust`, `rjust`, `stringformat`, `make_list`…). Registering only these makes the engine itself refuse
anything else, whatever the validation in `email_context.check_template` says; the catalogue's defaults
need nothing more (the context is made of strings, so there is nothing to loop over).

Every filter kept here returns at most a small multiple of its input (escaping, line breaks), so a
template of at most MAX_TEMPLATE_CHARS renders in time and size proportional to it.
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

ALLOWED_TAGS = ("if", "with", "comment", "firstof", "spaceless")
ALLOWED_FILTERS = (
    "capfirst",
    "cut",
    "default",
    "default_if_none",
    "escape",
    "force_escape",
    "length",
    "linebreaks",
    "linebreaksbr",
    "lower",
    "pluralize",
    "slice",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlencode",
    "yesno",
)

for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name in ALLOWED_FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
