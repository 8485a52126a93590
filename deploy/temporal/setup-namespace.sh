#!/bin/sh
# Compose job `temporal-namespace` (image temporalio/admin-tools): once the server answers, create the
# namespace the case workflows run in and the custom search attributes they upsert (the list mirrors
# workflows/search_attributes.py; tests/test_deploy_files.py checks that it does). Safe to run again.
#
# Environment: TEMPORAL_ADDRESS (read by the temporal CLI), TEMPORAL_NAMESPACE, NAMESPACE_RETENTION.
set -eu

NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${NAMESPACE_RETENTION:-30d}
SEARCH_ATTRIBUTES="CaseStage=Keyword Readiness=Keyword LegalGround=Keyword CaseId=Keyword PendingTask=Keyword Decision=Keyword NextDeadline=Datetime PendingTasks=KeywordList AssignedTo=KeywordList TaskDue=Datetime Escalation=Keyword"

echo "temporal-namespace: waiting for the Temporal server at ${TEMPORAL_ADDRESS:?}"
tries=0
until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "temporal-namespace: the server did not become healthy" >&2; exit 1; }
    sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "temporal-namespace: namespace $NAMESPACE exists"
else
    temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
        --description "Missed-meeting cases (udeblivelse)"
    echo "temporal-namespace: created namespace $NAMESPACE (retention $RETENTION)"
fi

# A new namespace reaches every frontend's cache after a moment: wait until its attributes can be listed.
tries=0
until existing=$(temporal operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null); do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "temporal-namespace: cannot list search attributes" >&2; exit 1; }
    sleep 2
done

for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%=*}
    type=${pair#*=}
    if printf '%s\n' "$existing" | grep -qw "$name"; then
        echo "temporal-namespace: search attribute $name exists"
    else
        temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
        echo "temporal-namespace: added search attribute $name ($type)"
    fi
done
echo "temporal-namespace: done"
