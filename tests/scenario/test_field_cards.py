"""Cards as the card platform enforces them, through the real SDK and the stricter stand-in.

Sources of the rules (each also next to the code that follows it):
- 创建并投放卡片 (open.dingtalk.com/document/development/create-and-deliver-cards): a fresh
  ``outTrackId`` per card ("需要设置全新的 outTrackId"), ``param.cardAlreadyExist``; cardParamMap
  keys ≤ 100 B and values ≤ 1 KB; the template errors; ``deliverResults[].success``.
- Stream 模式响应卡片回传请求事件 (the official tutorial): the click's shape over Stream.
- open-dingtalk/dingtalk-card-examples (golang): one-to-one cards carry
  ``imRobotOpenSpaceModel`` and ``imRobotOpenDeliverModel {spaceType: IM_ROBOT, robotCode}``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.cards import CARD_VALUE_MAX_BYTES, CATALOG
from bot.sandbox.standin import CARD_TOPIC, StandIn
from tests.conftest import BotFactory
from tests.scenario import probe
from tests.scenario.test_stories import CARDS, say, submit_and_approve


async def test_out_track_ids_are_unique_across_a_database_reset_and_old_cards_are_gone(
    standin: StandIn, start_bot: BotFactory, tmp_path: Path
) -> None:
    app = await start_bot(cards=CARDS)
    story_id, old_track = await submit_and_approve(standin)
    await app.stop()
    # The database is lost (or a second deployment runs on the same app): numbers start again.
    await start_bot(cards=CARDS, storage={"url": f"sqlite:///{tmp_path / 'reset.sqlite3'}"})
    new_id, new_track = await submit_and_approve(standin, title="另一个故事")
    assert new_id == story_id and new_track != old_track
    assert not [code for _, code in standin.rejected if code == "param.cardAlreadyExist"]
    # A click on the card from before the reset is not taken for the new story #1.
    gone = StandIn.response_of(
        await standin.click(old_track, "bob", {"action": "like", "id": str(story_id)})
    )
    assert gone["userPrivateData"]["cardParamMap"]["message"] == "这张卡片已失效。"
    assert "cardData" not in gone
    assert standin.cards[new_track].data["likes"] == "0"


async def test_long_story_bodies_are_cut_on_cards_with_the_command_that_shows_them(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS)
    body = "邻居们一起修好了楼道的灯，" * 120  # about 4.7 KB in UTF-8, under body_max
    sent = await say(standin, f"/故事 楼道的灯 | {body}", sender="alice")
    story_id = int(sent.text.split("#")[1].split("「")[0])
    await standin.say(f"/通过 {story_id}", sender="admin1")
    await standin.wait_sent(where=lambda s: s.route == "card" and s.param.get("kind") == "story")
    assert not [code for _, code in standin.rejected if code.startswith("param.")]
    for card in standin.cards.values():
        assert all(len(v.encode()) <= CARD_VALUE_MAX_BYTES for v in card.data.values())
        assert card.data["body"].endswith(f"全文：发送 /故事 全文 {story_id}")
    full = await say(standin, f"/故事 全文 {story_id}", sender="bob")
    assert body.strip() in full.text.replace("\\", "")


@pytest.mark.parametrize(
    ("fault", "code", "fix"),
    [
        ("missing", "param.templateNotExist", "关联应用"),
        ("unpublished", "param.templateUnpublished", "publish"),
        ("undelivered", "deliverResults.failed", "add the robot to the group"),
    ],
)
async def test_a_refused_card_goes_out_once_as_markdown_with_a_log_line_naming_the_fix(
    standin: StandIn,
    start_bot: BotFactory,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    code: str,
    fix: str,
) -> None:
    if fault == "missing":
        standin.faults.missing_templates.add("tpl-probe")
    elif fault == "unpublished":
        standin.faults.unpublished_templates.add("tpl-probe")
    else:
        standin.faults.undeliverable_cards = True
    app = await start_bot(routers=[probe.router])
    with caplog.at_level(logging.WARNING, logger="bot.sender"):
        await standin.say("/probe card")
        [fallback] = await standin.wait_sent(where=lambda s: s.text == "probe card")
        await app.sender.deliver_due()
    assert fallback.route == "webhook" and fallback.msg_key == "sampleMarkdown"
    assert not [s for s in standin.sent if s.route == "card"]
    creates = [p for p, _ in standin.requests if p.endswith("createAndDeliver")]
    assert len(creates) == 1 and len([s for s in standin.sent if s.text == "probe card"]) == 1
    lines = [r.getMessage() for r in caplog.records if code in r.getMessage()]
    assert len(lines) == 1 and fix in lines[0]


async def test_one_to_one_cards_carry_the_robot_models_and_clicks_have_the_real_shape(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(routers=[probe.router])
    await standin.say(
        "/probe card", sender="alice", conversation="cid-o2o-alice", conversation_type="1"
    )
    [card_sent] = await standin.wait_sent(where=lambda s: s.route == "card")
    card = standin.cards[card_sent.out_track_id]
    assert card.space_id == "dtv1.card//IM_ROBOT.alice"
    [(_, body)] = [(p, b) for p, b in standin.requests if p.endswith("createAndDeliver")]
    assert body["imRobotOpenDeliverModel"] == {
        "spaceType": "IM_ROBOT",
        "robotCode": standin.client_id,
    }
    assert body["imRobotOpenSpaceModel"] == {"supportForward": True}

    push = await standin.click(card.out_track_id, "alice", {"action": "press", "id": "7"})
    data = push.data
    assert (
        data["spaceType"] == "im" and data["userIdType"] == 1 and data["value"] == data["content"]
    )
    assert json.loads(data["content"])["cardPrivateData"]["actionIds"][0].startswith(
        "single_button_node_"
    )
    assert StandIn.response_of(push)["cardData"]["cardParamMap"]["last"] == "alice"

    # A click whose JSON comes only in ``value`` is read the same way.
    only_value = {k: v for k, v in data.items() if k != "content"}
    again = await standin.push(CARD_TOPIC, only_value)
    assert StandIn.response_of(again)["userPrivateData"]["cardParamMap"]["message"] == "你按下了"


async def test_a_button_that_sends_only_its_action_acts_on_the_cards_own_entity(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS)
    first, track = await submit_and_approve(standin)
    await submit_and_approve(standin, title="第二个故事")
    # 回传参数 set as the tutorial sets them: constants only, no id (docs/cards.md).
    push = await standin.click(track, "bob", {"action": "like"})
    response = StandIn.response_of(push)
    assert f"#{first}" in response["userPrivateData"]["cardParamMap"]["message"]
    assert response["cardData"]["cardParamMap"]["likes"] == "1"
    # What every card carries is what docs/cards.md tells the admin to build.
    for card in standin.cards.values():
        kind = CATALOG[card.data["kind"]]
        assert set(card.data) <= set(kind.variables), (kind.kind, set(card.data))
