"""The request bodies as DingTalk documents them: required fields and their types.

Each schema names its source. ``check`` returns what in a captured body breaks it.
"""

from __future__ import annotations

import json
from typing import Any

Schema = dict[str, Any]

# 创建并投放卡片 (open.dingtalk.com/document/development/create-and-deliver-cards), 请求体:
# cardTemplateId, outTrackId, cardData, openSpaceId are "是" (required); cardParamMap is
# Map<String, String> with keys ≤ 100 B and values ≤ 1 KB; callbackType "STREAM" | "HTTP";
# imGroupOpenSpaceModel.supportForward required when the object is used; imGroupOpenDeliverModel
# .robotCode required when it is used; userIdType Integer.
CREATE_AND_DELIVER: Schema = {
    "required": {
        "cardTemplateId": str,
        "outTrackId": str,
        "cardData": {"required": {"cardParamMap": "str_map"}},
        "openSpaceId": str,
    },
    "optional": {
        "callbackType": ("STREAM", "HTTP"),
        "userIdType": int,
        "imGroupOpenSpaceModel": {"required": {"supportForward": bool}},
        "imGroupOpenDeliverModel": {"required": {"robotCode": str}},
        "imRobotOpenSpaceModel": {"required": {"supportForward": bool}},
        "imRobotOpenDeliverModel": {
            "required": {"spaceType": ("IM_ROBOT",)},
            "optional": {"robotCode": str},
        },
    },
}

# 更新卡片 (PUT /v1.0/card/instances): outTrackId required; cardData.cardParamMap as above;
# cardUpdateOptions.updateCardDataByKey Boolean.
UPDATE_CARD: Schema = {
    "required": {"outTrackId": str, "cardData": {"required": {"cardParamMap": "str_map"}}},
    "optional": {
        "cardUpdateOptions": {
            "optional": {"updateCardDataByKey": bool, "updatePrivateDataByKey": bool}
        },
        "userIdType": int,
    },
}

# robot_1_0 OrgGroupSendRequest (groupMessages/send): msgKey, msgParam, openConversationId,
# robotCode, all strings; msgParam a JSON string. No at field exists.
GROUP_SEND: Schema = {
    "required": {
        "robotCode": str,
        "openConversationId": str,
        "msgKey": str,
        "msgParam": "json_string",
    },
    "closed": True,
}

# robot_1_0 BatchSendOTORequest (oToMessages/batchSend): msgKey, msgParam, robotCode, userIds.
BATCH_SEND: Schema = {
    "required": {"robotCode": str, "userIds": "str_list", "msgKey": str, "msgParam": "json_string"},
    "closed": True,
}

# robot_1_0 RobotMessageFileDownloadRequest (下载机器人接收消息的文件内容,
# POST /v1.0/robot/messageFiles/download): downloadCode and robotCode, both strings.
MESSAGE_FILE_DOWNLOAD: Schema = {
    "required": {"downloadCode": str, "robotCode": str},
    "closed": True,
}

# Session webhook (custom robot message types): msgtype and its object; at.atUserIds a list.
WEBHOOK: Schema = {
    "required": {"msgtype": ("text", "markdown", "actionCard")},
    "optional": {
        "text": {"required": {"content": str}},
        "markdown": {"required": {"title": str, "text": str}},
        "at": {"optional": {"atUserIds": "str_list", "isAtAll": bool}},
    },
}


def check(body: Any, schema: Schema, path: str = "") -> list[str]:
    """What in ``body`` breaks ``schema`` (empty when it holds)."""
    if not isinstance(body, dict):
        return [f"{path or 'body'}: not an object"]
    problems: list[str] = []
    required: dict[str, Any] = schema.get("required", {})
    optional: dict[str, Any] = schema.get("optional", {})
    for key, rule in required.items():
        if key not in body:
            problems.append(f"{path}{key}: missing")
        else:
            problems += _value(body[key], rule, f"{path}{key}")
    for key, rule in optional.items():
        if key in body:
            problems += _value(body[key], rule, f"{path}{key}")
    if schema.get("closed"):
        problems += [f"{path}{k}: not a documented field" for k in body if k not in required]
    return problems


def _value(value: Any, rule: Any, path: str) -> list[str]:
    if isinstance(rule, dict):
        return check(value, rule, path + ".")
    if isinstance(rule, tuple):
        return [] if value in rule else [f"{path}: {value!r} not one of {rule}"]
    if rule == "str_map":
        ok = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        return [] if ok else [f"{path}: not a map of strings"]
    if rule == "str_list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return [] if ok else [f"{path}: not a list of strings"]
    if rule == "json_string":
        try:
            return [] if isinstance(json.loads(value), dict) else [f"{path}: not a JSON object"]
        except (TypeError, ValueError):
            return [f"{path}: not a JSON string"]
    if rule is int and isinstance(value, bool):
        return [f"{path}: a boolean, not an integer"]
    return [] if isinstance(value, rule) else [f"{path}: not {rule.__name__}"]
