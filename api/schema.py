from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
