"""Loads the demo world: two merchants with a team each, plans and customers. Re-running changes nothing."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Merchant
from accounts.services import membership_grant
from plans import services as plan_services
from plans.choices import IntervalUnit
from plans.models import Plan
from subscribers import services as subscriber_services
from subscribers.choices import CancelOrigin, CancelWhen, PaymentMethod
from subscribers.models import Customer, Subscription

DEMO_PASSWORD = "recorrente-demo"

MERCHANTS = [
    {
        "slug": "the-pacific",
        "name": "The Pacific",
        "team": [
            ("pacific.dono", "Paula", Role.OWNER),
            ("pacific.suporte", "Sérgio", Role.SUPPORT),
            ("pacific.leitor", "Lia", Role.VIEWER),
        ],
        "plans": [
            {
                "name": "Impressa",
                "description": "Jornal impresso entregue em casa, de segunda a domingo.",
                "price": 8990,
                "interval_unit": IntervalUnit.MONTH,
                "interval_count": 1,
            },
            {
                "name": "Digital",
                "description": "Acesso ilimitado ao site e ao aplicativo.",
                "price": 1990,
                "interval_unit": IntervalUnit.MONTH,
                "interval_count": 1,
                "trial_days": 7,
            },
            {
                "name": "Digital Anual",
                "description": "Acesso digital pago uma vez por ano.",
                "price": 19900,
                "interval_unit": IntervalUnit.YEAR,
                "interval_count": 1,
            },
        ],
        "customers": [
            ("Ana Souza", "ana.souza@example.com", "anasouza", "52998224725"),
            ("Bruno Lima", "bruno.lima@example.com", "brunolima", "11144477735"),
            ("Carla Mendes", "carla.mendes@example.com", "carlam", ""),
            ("Distribuidora Norte Ltda", "financeiro@norte.example.com", "", "11222333000181"),
            ("Eduardo Rocha", "edu.rocha@example.com", "edurocha", ""),
        ],
    },
    {
        "slug": "cafe-assinado",
        "name": "Café Assinado",
        "team": [
            ("cafe.dono", "Caio", Role.OWNER),
            ("cafe.suporte", "Sandra", Role.SUPPORT),
            ("cafe.leitor", "Leo", Role.VIEWER),
        ],
        "plans": [
            {
                "name": "Café do Mês",
                "description": "Um pacote de 250 g de café especial por mês.",
                "price": 5900,
                "interval_unit": IntervalUnit.MONTH,
                "interval_count": 1,
            },
            {
                "name": "Kit Barista 6x",
                "description": "Moedor e cafés em 6 parcelas.",
                "price": 100000,
                "interval_unit": IntervalUnit.MONTH,
                "interval_count": 1,
                "installments": 6,
            },
            {
                "name": "Degustação Quinzenal",
                "description": "Amostras a cada duas semanas.",
                "price": 2900,
                "interval_unit": IntervalUnit.WEEK,
                "interval_count": 2,
            },
        ],
        "customers": [
            ("Fernanda Alves", "fernanda@example.com", "fe.alves", "52998224725"),
            ("Gustavo Pires", "gustavo@example.com", "gpires", ""),
            ("Helena Dias", "helena@example.com", "helenad", "11144477735"),
        ],
    },
]


class Command(BaseCommand):
    help = "Loads demo merchants, teams, plans and customers (idempotent) and prints the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="The address to print.")

    @transaction.atomic
    def handle(self, *args, url, **options):
        # Its logins and password are public (README): on a production server they would be a way in.
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "load_demo only runs in development (DJANGO_DEBUG=true, as make run sets). "
                "A production install creates its first merchant with manage.py create_merchant."
            )
        User = get_user_model()
        merchants = {}
        for spec in MERCHANTS:
            merchant, _created = Merchant.objects.get_or_create(
                slug=spec["slug"], defaults={"name": spec["name"]}
            )
            merchants[spec["slug"]] = merchant
            owner = None
            for username, first_name, role in spec["team"]:
                user = self._user(User, username, first_name)
                membership_grant(merchant=merchant, user=user, role=role)
                owner = owner or user
            for plan in spec["plans"]:
                if not Plan.objects.filter(merchant=merchant, name=plan["name"]).exists():
                    plan_services.plan_create(merchant=merchant, **plan)
            for name, email, handle, document in spec["customers"]:
                if not Customer.objects.filter(merchant=merchant, email=email).exists():
                    subscriber_services.customer_create(
                        merchant=merchant,
                        name=name,
                        email=email,
                        handle=handle,
                        document=document,
                    )
            if not Subscription.objects.filter(merchant=merchant).exists():
                self._subscriptions(merchant, owner, spec)
        # One person in two merchants, to show the switcher in the header.
        membership_grant(
            merchant=merchants["cafe-assinado"],
            user=User.objects.get(username="pacific.dono"),
            role=Role.MANAGER,
        )
        admin = self._user(User, "admin", "Admin")
        if not (admin.is_staff and admin.is_superuser):
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])

        self.stdout.write(
            f"\nRecorrente is running at {url}\n"
            f"Demo logins (password for all: {DEMO_PASSWORD})\n"
            "  The Pacific     pacific.dono (owner, also manager at Café Assinado)"
            " · pacific.suporte (support) · pacific.leitor (viewer)\n"
            "  Café Assinado   cafe.dono (owner) · cafe.suporte (support) · cafe.leitor (viewer)\n"
            "  Platform staff  admin (Django admin at /admin/)\n"
        )

    def _subscriptions(self, merchant, owner, spec):
        """A few subscriptions in different states, each made through the lifecycle services."""
        today = timezone.localdate()
        plans = list(Plan.objects.filter(merchant=merchant).order_by("pk"))
        customers = list(Customer.objects.filter(merchant=merchant).order_by("pk"))
        methods = [
            PaymentMethod.CARD,
            PaymentMethod.PIX,
            PaymentMethod.CARD,
            PaymentMethod.BOLETO,
            PaymentMethod.MANUAL,
        ]
        created = []
        for index, customer in enumerate(customers):
            created.append(
                subscriber_services.subscription_create(
                    merchant=merchant,
                    actor=owner,
                    customer=customer,
                    plan=plans[index % len(plans)],
                    # Within the default backdating bound (1 period or 31 days, Configurações > Cobrança).
                    contract_date=today - dt.timedelta(days=30 - 7 * index),
                    payment_method=methods[index % len(methods)],
                    salesperson=owner,
                )
            )
        subscriber_services.subscription_create(
            merchant=merchant,
            actor=owner,
            customer=customers[0],
            plan=plans[-1],
            contract_date=today + dt.timedelta(days=10),
            salesperson=owner,
        )
        subscriber_services.subscription_cancel(
            subscription=created[0],
            actor=owner,
            origin=CancelOrigin.CUSTOMER,
            when=CancelWhen.NOW,
            reason="Achou o preço alto.",
        )

    def _user(self, User, username, first_name):
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "email": f"{username}@recorrente.demo"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
