"""API Gateway REQUEST authorizer: `Authorization: Bearer <key>` -> tenant, key id and scopes.

The policy lists exactly the routes the key's scopes allow (`ledgerline.api.routes`), so API
Gateway can cache it per key and answer 403 itself for the rest. Unknown, malformed or revoked keys get 401 without saying which.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
    APIGatewayRouteArn,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api.routes import allowed_routes, shadowed_routes
from ledgerline.observability import logger
from ledgerline.store.apikeys import ApiKey, find_key


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    header = event.headers.get("Authorization") or event.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    api_key = find_key(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if api_key is None or not api_key.active:
        logger.info("rejected credentials", extra={"reason": "unknown or revoked key" if token else "no bearer"})
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    logger.append_keys(tenant_id=api_key.tenant_id, key_id=api_key.key_id)
    return policy_for(api_key, event.parsed_arn)


def policy_for(api_key: ApiKey, arn: APIGatewayRouteArn) -> dict[str, Any]:
    """The key's tenant and scopes as context, and a policy allowing exactly its scopes' routes
    (none: deny everything, the key is valid but may call nothing)."""
    policy = APIGatewayAuthorizerResponse(
        principal_id=api_key.key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"tenant_id": api_key.tenant_id, "key_id": api_key.key_id, "scopes": " ".join(api_key.scopes)},
        usage_identifier_key=api_key.usage_key,
    )
    allowed = allowed_routes(api_key.scopes)
    for route in allowed:
        policy.allow_route(http_method=route.method, resource=route.policy_resource)
    for route in shadowed_routes(api_key.scopes):
        policy.deny_route(http_method=route.method, resource=route.policy_resource)
    if not allowed:
        policy.deny_all_routes()
    return policy.asdict()
