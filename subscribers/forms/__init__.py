"""The subscribers app's forms, one module per screen.

- `customers`: Clientes > Novo / Editar (`CustomerForm`).
- `contract`: Contratar plano / Nova assinatura (`SubscriptionForm`).
- `edit`: Editar assinatura (`SubscriptionUpdateForm`).
- `cancel`: Cancelar, Remover and Cancelar selecionadas (`CancelForm`, `RemoveForm`, `BulkCancelForm`).
- `card`: Alterar cartão (`ChangeCardForm`).
- `terms`: the terms contracting and editing share (`SubscriptionTermsForm`).
- `fields`: the choice fields, widgets and error mapping those forms are built from.

The list filters are filtersets, in `subscribers/filtersets.py`. Import each form from its module.
"""
