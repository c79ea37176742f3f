"""The records table, the idempotency table and the cursor-signing secret."""

from __future__ import annotations

from ledgerline.store import schema


def table(synthesized, attribute: str) -> dict:
    built = synthesized.built
    return synthesized.resource(built.logical_id(getattr(built.stack.storage, attribute)))


def test_records_table_is_built_from_the_shared_schema(synthesized):
    props = table(synthesized, "records")["Properties"]
    definition = schema.records_table_definition("unused")

    assert props["KeySchema"] == definition["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == definition["AttributeDefinitions"]
    assert props["GlobalSecondaryIndexes"] == definition["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_records_table_cannot_be_lost(synthesized):
    resource = table(synthesized, "records")

    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_idempotency_table_matches_powertools_layout_with_ttl(synthesized):
    props = table(synthesized, "idempotency")["Properties"]
    definition = schema.idempotency_table_definition("unused")

    assert props["KeySchema"] == definition["KeySchema"]
    assert props["AttributeDefinitions"] == definition["AttributeDefinitions"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.IDEMPOTENCY_TTL_ATTRIBUTE, "Enabled": True}
    # Its writes must stay out of the records stream, and it has no stream of its own.
    assert "StreamSpecification" not in props


def test_the_cursor_and_webhook_keys_are_generated_not_written_down(synthesized):
    built = synthesized.built
    secrets = synthesized.resources("AWS::SecretsManager::Secret")

    assert set(secrets) == {built.logical_id(built.stack.storage.cursor_secret),
                            built.logical_id(built.stack.storage.webhook_key)}
    for secret in secrets.values():
        assert secret["Properties"]["GenerateSecretString"] == {"PasswordLength": 64, "ExcludePunctuation": True}
        assert "SecretString" not in secret["Properties"]
