"""The Train and Evaluate pages in 简体中文."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pagetest import app_in, page_texts, small_segmented_workspace

from core.evaluate import Evaluation
from core.finetune import load_evaluations


@pytest.fixture(scope="module")
def trained_ws(tmp_path_factory):
    """A small demo store with a segmentation (for the map) and a tiny churn model, built once."""
    root = tmp_path_factory.mktemp("lang_model") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        yield small_segmented_workspace(root, seed=3, k=4, train=True)


def _chinese_app(page: str):
    return app_in("zh", page)


def _chart_titles(at) -> list[str]:
    layouts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    return [lay["title"]["text"] for lay in layouts if "title" in lay]


def test_empty_states_in_chinese(workspace_root):
    at = _chinese_app("evaluate")
    assert at.title[0].value == "评估"
    assert any("请先训练一个模型" in i.value for i in at.info)
    at.switch_page("../pages/train.py").run()
    assert not at.exception
    assert at.title[0].value == "训练"
    assert any(i.value == "请先加载一个数据集。" for i in at.info)


def test_train_page_in_chinese(trained_ws):
    at = _chinese_app("train")
    assert at.title[0].value == "训练"
    target = at.selectbox(key="tr_target")
    assert target.label == "预测目标"
    assert "流失：截止日后 N 天内没有购买" in target.options
    # Interacting with the form re-sends every option by its (Chinese) label: must not break.
    at.selectbox(key="tr_target").set_value("churn").run()
    assert not at.exception
    assert "自动" in at.selectbox(key="tr_device").options
    assert at.slider(key="tr_epochs").label == "训练轮数"
    assert any(b.label == "开始训练" for b in at.button)
    texts = page_texts(at)
    assert "训练记录" in texts
    assert any(s.value.startswith("最新模型：在 ") for s in at.success)
    runs = next(d for d in at.dataframe if "test macro-F1" in d.value.columns)
    assert len(runs.value) == 1  # the data keeps its column ids; only the labels are Chinese
    labels = {c: cfg.get("label") for c, cfg in json.loads(runs.proto.columns).items()}
    assert labels["test macro-F1"] == "测试集 macro-F1" and labels["state"] == "状态"


def test_evaluate_page_in_chinese(trained_ws):
    ws, run = trained_ws
    at = _chinese_app("evaluate")
    assert at.title[0].value == "评估"
    texts = page_texts(at)
    assert "并排对比" in texts and "单元格背后是哪些客户？" in texts
    assert "**混淆矩阵**" in texts and "留出集共" in texts
    assert at.radio(key="ev_model").label == "模型"
    assert at.toggle(key="ev_norm").label == "按行归一化（每个真实类别的召回率）"
    titles = _chart_titles(at)
    assert {"ROC（一对其余）", "精确率–召回率", "校准曲线（P(流失)）"} <= set(titles), titles

    # A confusion cell: its customers, described in Chinese, on the segmentation map.
    ev = Evaluation.from_dict(load_evaluations(ws, run.id)[0])
    conf = np.asarray(ev.confusion)
    i, j = np.unravel_index(conf.argmax(), conf.shape)
    true_cls, pred_cls, count = ev.classes[i], ev.classes[j], int(conf[i, j])
    at.selectbox(key="ev_cell_true").set_value(true_cls)
    at.selectbox(key="ev_cell_pred").set_value(pred_cls).run()
    assert not at.exception
    texts = page_texts(at)
    # The churn target's classes are shown translated (the stored values stay English).
    shown = {"active": "活跃", "churned": "流失"}
    verdict = "且被正确预测" if i == j else f"却被预测为 **{shown[pred_cls]}**"
    assert f"**{count:,}** 位留出客户属于 **{shown[true_cls]}**，{verdict}" in texts
    assert "分群运行" in texts and "以彩色显示" in texts
    assert any(d.label == f"下载 {count:,} 位客户（CSV）" for d in at.get("download_button"))

    next(b for b in at.button if b.key == "sc_go").click().run()
    assert not at.exception
    assert at.button(key="sc_go").label == "打分"
    assert "预测类别分布：" in page_texts(at)
