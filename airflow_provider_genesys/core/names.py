"""The analytics metric, dimension and query-field names Genesys accepts, and checks against them.

Checking names before a request turns a typo into an error that says what to fix, instead of a 400
(or silently empty groups) from Genesys. The lists are copied from the official SDKs' enums, which
are generated from the Platform API's OpenAPI definition. The Python SDK (``PureCloudPlatformClientV2``)
types ``metrics`` and ``groupBy`` as plain ``list[str]`` with no ``allowed_values``, so those lists come
from the Java SDK, whose models and docs carry them as enums:

* ``MyPureCloud/platform-client-sdk-java`` ``build/docs/<Model>.md``, 264.1.0 (commit
  ``0455ad0ccbbfd2f95ca3fa872fb70b274cd86ba5``): ConversationAggregateQueryPredicate,
  ConversationAsyncAggregationQuery, ConversationAggregationView, UserAggregationQuery,
  FlowAggregationQuery, ConversationQuery.
* the same path, 259.0.0 (commit ``11037574d2d125a31f524ccf79eb36491034c4ea``):
  ConversationAggregationQuery, SegmentDetailQueryPredicate.
* ``MyPureCloud/platform-client-sdk-python``
  ``build/PureCloudPlatformClientV2/models/conversation_detail_query_predicate.py``, 258.0.0 (commit
  ``056f7b853deff6c14062c55a6c57bad4dd56647d``), and ``async_conversation_query.py`` (commit
  ``6ccdab52e53b451988b50d898074f34f5835a056``).

Genesys adds names often; callers that need a newer one pass ``validate_names=False``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_genesys.core.errors import GenesysConfigError

__all__ = [
    "AGGREGATE_QUERY_FIELDS",
    "CONVERSATION_AGGREGATE_DIMENSIONS",
    "CONVERSATION_AGGREGATE_FILTER_DIMENSIONS",
    "CONVERSATION_AGGREGATE_METRICS",
    "CONVERSATION_DETAIL_DIMENSIONS",
    "DETAIL_QUERY_FIELDS",
    "FLOW_AGGREGATE_DIMENSIONS",
    "FLOW_AGGREGATE_METRICS",
    "JOB_QUERY_FIELDS",
    "SEGMENT_DETAIL_DIMENSIONS",
    "USER_AGGREGATE_DIMENSIONS",
    "USER_AGGREGATE_METRICS",
    "check_conversation_aggregate_query",
    "check_fields",
    "check_names",
    "filter_dimensions",
]

_NAMES_FIX = "check the spelling, or pass validate_names=False to send names newer than this provider knows"


def _names(text: str) -> frozenset[str]:
    """Read a whitespace-separated block of names (keeps the long lists compact and diffable)."""
    return frozenset(text.split())


#: ``ConversationAggregationQuery.metrics``: Java SDK 259.0.0 (80 names) plus ``nAgentDeclined`` and
#: ``nAlertExpired``, added by the release that is in Java SDK 264.1.0 (82 names).
CONVERSATION_AGGREGATE_METRICS: frozenset[str] = _names(
    """
    nAgentDeclined nAlertExpired nBlindTransferred nBotInteractions nCallbackAttempts nCallbackOverSla
    nCallbackScheduled nCfcOffered nCobrowseSessions nConnected nConsult nConsultTransferred
    nConversations nError nOffered nOutbound nOutboundAbandoned nOutboundAttempted nOutboundConnected
    nOverSla nStateTransitionError nTakeover nTransferred oAudioMessageCount oCallbackServiceLevel
    oExternalAudioMessageCount oExternalMediaCount oMediaCount oMessageCount oMessageSegmentCount
    oMessageTurn oServiceLevel oServiceTarget oSkillExpressionApplications tAbandon tAcd tActiveCallback
    tActiveCallbackComplete tAcw tAgentResponseTime tAgentVideoConnected tAlert tAnswered
    tAverageAgentResponseTime tAverageCustomerResponseTime tBarging tCallbackAbandon tCallbackConnect
    tCallbackNotReached tCallbackVirtualWait tCfcAbandon tCfcAcd tCfcAnswered tCfcFlowOut tCoaching
    tCoachingComplete tConnected tContacting tDialing tFirstConnect tFirstDial tFirstEngagement
    tFirstResponse tFlowOut tHandle tHeld tHeldComplete tIvr tMonitoring tMonitoringComplete
    tNotResponding tPark tParkComplete tScreenMonitoring tShortAbandon tSnippetRecord tTalk
    tTalkComplete tTransmitting tUserResponseTime tVoicemail tWait
    """
)

#: ``ConversationAggregationQuery.groupBy``: Java SDK 259.0.0, unchanged in the async variant at 264.1.0.
CONVERSATION_AGGREGATE_DIMENSIONS: frozenset[str] = _names(
    """
    activeRouting activeSkillId addressFrom addressTo agentAssistantId agentBullseyeRing agentOwned
    agentRank agentScore ani assignerId authenticated conversationId conversationInitiator convertedFrom
    convertedTo customerParticipation deliveryStatus destinationAddress direction disconnectType
    divisionId dnis edgeId eligibleAgentCount errorCode extendedDeliveryStatus externalContactId
    externalMediaCount externalOrganizationId externalTag firstQueue flaggedReason flowInType
    flowOutType groupId interactionType journeyActionId journeyActionMapId journeyActionMapVersion
    journeyCustomerId journeyCustomerIdType journeyCustomerSessionId journeyCustomerSessionIdType
    knowledgeBaseId mediaCount mediaType messageType originatingDirection originatingSocialMediaPublic
    outboundCampaignId outboundContactId outboundContactListId participantName peerId proposedAgentId
    provider purpose queueId remote removedSkillId requestedLanguageId requestedRouting
    requestedRoutingSkillId roomId routingPriority routingRing routingRule routingRuleType scoredAgentId
    selectedAgentId selectedAgentRank selfServed sessionDnis sessionId skillExpressionId stationId
    teamId usedRouting userId videoPresent waitingInteractionCount wrapUpCode
    """
)

#: ``ConversationAggregateQueryPredicate.dimension`` (aggregate filters): Java SDK 264.1.0.
CONVERSATION_AGGREGATE_FILTER_DIMENSIONS: frozenset[str] = _names(
    """
    activeRouting activeSkillId addressFrom addressTo agentAssistantId agentBullseyeRing agentOwned
    agentRank agentScore ani assignerId authenticated canonicalExternalContactId conversationId
    conversationInitiator convertedFrom convertedTo customerParticipation deliveryStatus
    destinationAddress direction disconnectType divisionId dnis edgeId eligibleAgentCount errorCode
    extendedDeliveryStatus externalContactId externalMediaCount externalOrganizationId externalTag
    firstQueue flaggedReason flowInType flowOutType groupId interactionType journeyActionId
    journeyActionMapId journeyActionMapVersion journeyCustomerId journeyCustomerIdType
    journeyCustomerSessionId journeyCustomerSessionIdType knowledgeBaseId mediaCount mediaType
    messageType originatingDirection originatingSocialMediaPublic outboundCampaignId outboundContactId
    outboundContactListId participantName peerId proposedAgentId provider purpose queueId remote
    removedSkillId requestedLanguageId requestedRouting requestedRoutingSkillId roomId routingPriority
    routingRing routingRule routingRuleType scoredAgentId selectedAgentId selectedAgentRank selfServed
    sessionDnis sessionId skillExpressionId stationId teamId usedRouting userId videoPresent
    waitingInteractionCount wrapUpCode
    """
)

#: ``UserAggregationQuery.metrics``: Java SDK 264.1.0.
USER_AGGREGATE_METRICS: frozenset[str] = _names(
    """
    tAgentRoutingStatus tOrganizationPresence tSystemPresence
    """
)

#: ``UserAggregationQuery.groupBy``: Java SDK 264.1.0.
USER_AGGREGATE_DIMENSIONS: frozenset[str] = _names(
    """
    userId
    """
)

#: ``FlowAggregationQuery.metrics``: Java SDK 264.1.0.
FLOW_AGGREGATE_METRICS: frozenset[str] = _names(
    """
    nFlow nFlowMilestone nFlowOutcome nFlowOutcomeFailed oFlowMilestone tFlow tFlowDisconnect tFlowExit
    tFlowOutcome
    """
)

#: ``FlowAggregationQuery.groupBy``: Java SDK 264.1.0.
FLOW_AGGREGATE_DIMENSIONS: frozenset[str] = _names(
    """
    activeRouting activeSkillId addressFrom addressTo agentAssistantId agentBullseyeRing agentOwned
    agentRank agentScore ani assignerId authenticated conversationId conversationInitiator convertedFrom
    convertedTo customerParticipation deliveryStatus destinationAddress direction disconnectType
    divisionId dnis edgeId eligibleAgentCount endingLanguage entryReason entryType errorCode exitReason
    extendedDeliveryStatus externalContactId externalMediaCount externalOrganizationId externalTag
    firstQueue flaggedReason flowId flowInType flowMilestoneId flowName flowOutcome flowOutcomeId
    flowOutcomeValue flowOutType flowSubType flowType flowVersion groupId interactionType
    journeyActionId journeyActionMapId journeyActionMapVersion journeyCustomerId journeyCustomerIdType
    journeyCustomerSessionId journeyCustomerSessionIdType knowledgeBaseId mediaCount mediaType
    messageType originatingDirection outboundCampaignId outboundContactId outboundContactListId
    participantName peerId proposedAgentId provider purpose queueId recognitionFailureReason remote
    removedSkillId requestedLanguageId requestedRouting requestedRoutingSkillId roomId routingPriority
    routingRing routingRule routingRuleType scoredAgentId selectedAgentId selectedAgentRank selfServed
    sessionDnis sessionId skillExpressionId startingLanguage stationId teamId transferTargetAddress
    transferTargetName transferType usedRouting userId videoPresent waitingInteractionCount wrapUpCode
    """
)

#: ``ConversationDetailQueryPredicate.dimension`` (details ``conversationFilters``): Python SDK 258.0.0.
CONVERSATION_DETAIL_DIMENSIONS: frozenset[str] = _names(
    """
    accessAttribute conversationEnd conversationId conversationInitiator conversationStart
    customerParticipation divisionId externalTag mediaStatsMinConversationMos originatingDirection
    originatingSocialMediaPublic
    """
)

#: ``SegmentDetailQueryPredicate.dimension`` (details ``segmentFilters``): Java SDK 259.0.0.
SEGMENT_DETAIL_DIMENSIONS: frozenset[str] = _names(
    """
    addressFrom addressTo agentAssistantId agentOwned ani authenticated bargedParticipantId
    callbackNumber callbackScheduledTime canonicalExternalContactId cleared coachedParticipantId
    conference deliveryPushed deliveryStatus destinationAddress destinationConversationId
    detectedSpeechEnd detectedSpeechStart direction disconnectType dnis edgeId engagementSource
    errorCode exitReason extendedDeliveryStatus externalContactId externalOrganizationId flaggedReason
    flowId flowName flowOutcome flowOutcomeId flowOutcomeValue flowOutType flowVersion groupId
    journeyActionId journeyActionMapId journeyCustomerId journeyCustomerIdType journeyCustomerSessionId
    mediaCount mediaType messageType monitoredParticipantId outboundCampaignId outboundContactId
    outboundContactListId participantName protocolCallId provider purpose queueId recording remote
    remoteNameDisplayable requestedLanguageId requestedRouting requestedRoutingSkillId scoredAgentId
    screenMonitoredUserId screenRecording scriptId segmentEnd segmentType sessionDnis sipResponseCode
    skillExpressionId snippetRecording subject teamId transferTargetAddress transferTargetName
    transferType usedRouting userId wrapUpCode wrapUpNote
    """
)

#: Top-level fields of the conversation aggregates body (``ConversationAggregationQuery``; Java SDK 259.0.0,
#: the same twelve in the .NET SDK 270.0.0 docs).
AGGREGATE_QUERY_FIELDS: frozenset[str] = _names(
    """
    interval granularity timeZone groupBy filter metrics flattenMultivaluedDimensions views
    alternateTimeDimension queryType sortMetric limit
    """
)

#: Top-level fields of the details query body (``ConversationQuery``; Java SDK 264.1.0).
DETAIL_QUERY_FIELDS: frozenset[str] = _names(
    """
    interval conversationFilters segmentFilters evaluationFilters surveyFilters resolutionFilters
    order orderBy aggregations paging
    """
)

#: Top-level fields of the async details job body (``AsyncConversationQuery``; Python SDK model).
JOB_QUERY_FIELDS: frozenset[str] = _names(
    """
    interval conversationFilters segmentFilters evaluationFilters surveyFilters resolutionFilters
    order orderBy limit startOfDayIntervalMatching
    """
)


def _suggestions(value: str, allowed: Iterable[str]) -> list[str]:
    """Close matches for one unknown name, case-insensitive first (``thandle`` -> ``tHandle``)."""
    pool = sorted(allowed)
    same_case = [name for name in pool if name.lower() == value.lower()]
    if same_case:
        return same_case
    by_lower = {name.lower(): name for name in pool}
    return [by_lower[m] for m in difflib.get_close_matches(value.lower(), list(by_lower), n=3, cutoff=0.6)]


def _describe(unknown: list[str], allowed: Iterable[str]) -> str:
    """Name every unknown value with its likely intended spelling."""
    parts = []
    for value in unknown:
        close = _suggestions(value, allowed)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        parts.append(f"{value!r}{hint}")
    return ", ".join(parts)


def _as_list(values: Any, field: str) -> list[Any]:
    """Accept one name or an iterable of names; a bare string is one name, not its letters."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, Mapping) or not isinstance(values, Iterable):
        raise GenesysConfigError(field, f"expected a list of names, got {type(values).__name__}", _NAMES_FIX)
    return list(values)


def check_names(values: Iterable[str] | str | None, allowed: frozenset[str], field: str) -> None:
    """Raise when any name is not in ``allowed``, naming the field, the unknown names and close matches."""
    bad = [v if isinstance(v, str) else repr(v) for v in _as_list(values, field) if not _known(v, allowed)]
    unknown = list(dict.fromkeys(bad))
    if not unknown:
        return
    noun = "name" if len(unknown) == 1 else "names"
    raise GenesysConfigError(field, f"unknown {noun} {_describe(unknown, allowed)}", _NAMES_FIX)


def _known(value: Any, allowed: frozenset[str]) -> bool:
    """Whether one value is a string Genesys defines (names are case-sensitive)."""
    return isinstance(value, str) and value in allowed


def check_fields(query: Mapping[str, Any], allowed: frozenset[str], field: str = "query") -> None:
    """Raise when the query body has a top-level field Genesys does not define for it."""
    if not isinstance(query, Mapping):
        raise GenesysConfigError(field, f"expected a JSON object, got {type(query).__name__}", "pass a dict")
    unknown = [str(key) for key in query if key not in allowed]
    if unknown:
        noun = "field" if len(unknown) == 1 else "fields"
        fix = "remove it or fix the spelling; allowed: " + ", ".join(sorted(allowed))
        raise GenesysConfigError(field, f"unknown {noun} {_describe(unknown, allowed)}", fix)


def _filters(filter_obj: Any, field: str) -> list[Mapping[str, Any]]:
    """Normalise a filter, a list of filters (details queries) or None to a list of filter objects."""
    if filter_obj is None:
        return []
    if isinstance(filter_obj, Mapping):
        return [filter_obj]
    if isinstance(filter_obj, (list, tuple)) and all(isinstance(f, Mapping) for f in filter_obj):
        return list(filter_obj)
    raise GenesysConfigError(
        field,
        f"expected a filter object or a list of them, got {type(filter_obj).__name__}",
        'write it like {"type": "and", "predicates": [{"dimension": "queueId", "value": "..."}]}',
    )


def _walk_dimensions(filter_obj: Mapping[str, Any], found: dict[str, None]) -> None:
    """Collect the predicate dimensions of one filter and, recursively, of its clauses."""
    for predicate in filter_obj.get("predicates") or []:
        if isinstance(predicate, Mapping) and isinstance(predicate.get("dimension"), str):
            found.setdefault(predicate["dimension"], None)
    for clause in filter_obj.get("clauses") or []:
        if isinstance(clause, Mapping):
            _walk_dimensions(clause, found)


def filter_dimensions(filter_obj: Any, field: str = "filter") -> list[str]:
    """Every dimension a Genesys filter (or list of filters) names, in first-seen order, once each."""
    found: dict[str, None] = {}
    for one in _filters(filter_obj, field):
        _walk_dimensions(one, found)
    return list(found)


def check_conversation_aggregate_query(query: Mapping[str, Any]) -> None:
    """Check a conversation aggregates body: its fields, metrics, groupBy and filter dimensions."""
    check_fields(query, AGGREGATE_QUERY_FIELDS, "query")
    check_names(query.get("metrics"), CONVERSATION_AGGREGATE_METRICS, "query.metrics")
    check_names(query.get("groupBy"), CONVERSATION_AGGREGATE_DIMENSIONS, "query.groupBy")
    dims = filter_dimensions(query.get("filter"), "query.filter")
    check_names(dims, CONVERSATION_AGGREGATE_FILTER_DIMENSIONS, "query.filter")
