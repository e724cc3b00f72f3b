from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents api.authentication.ApiKeyAuthentication as HTTP bearer in the OpenAPI schema."""

    target_class = "api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Chave de API do lojista (rk_live_… ou rk_test_…), criada em Configurações > API.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    type = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorSerializer(serializers.Serializer):
    """Every error answer (api/exceptions.py)."""

    error = ErrorDetailSerializer()


# The errors any authenticated operation may answer, documented once for all of them.
ERROR_CODES = ("400", "401", "403", "404", "429")
POST_ERROR_CODES = ("422",)


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus what every operation shares: the error object on each error status and
    the Idempotency-Key header on every POST."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Chave única por operação (ex.: um UUID), até 255 caracteres: repetir a requisição "
                        "com a mesma chave em 24 h devolve a primeira resposta sem repetir o efeito."
                    ),
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ERROR_CODES + (POST_ERROR_CODES if self.method == "POST" else ())
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses
