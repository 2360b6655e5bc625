"""The default beat schedule, stored as django-celery-beat rows (editable in the admin) by a migration.

Only follow-ups run often; everything else is nightly, in an order where each job finds what the
one before it wrote (the yearly appraisal before the street assessment that averages it).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One periodic task: its admin name, the task it runs, and either an interval or a crontab."""

    name: str
    task: str
    every_minutes: int | None = None
    crontab: dict[str, str] = field(default_factory=dict)
    description: str = ""


DEFAULT_SCHEDULE: tuple[Entry, ...] = (
    Entry(
        name="工作进程心跳 / worker heartbeat",
        task="workers.tasks.worker_heartbeat",
        every_minutes=1,
        description="每分钟一次;就绪检查(/readyz)据此确认有工作进程在消费队列",
    ),
    Entry(
        name="跟进提醒扫描 / follow-up scan",
        task="workers.tasks.followups_dispatch",
        every_minutes=5,
        description="找出到期跟进,生成提醒与站内通知,逾期升级,发送每人一封汇总邮件",
    ),
    Entry(
        name="回调补发 / re-send lost webhook deliveries",
        task="workers.tasks.webhooks_redeliver",
        every_minutes=5,
        description="补发创建10分钟后仍待发送且无人处理的机构回调(消息因Redis中断或工作进程退出而丢失)",
    ),
    Entry(
        name="存储结果更新 / refresh stored results",
        task="workers.tasks.stored_results_refresh",
        every_minutes=1,
        description="数据有变化(或跨日)而存储的看板、地图、预测等结果未更新时,排队重新计算",
    ),
    Entry(
        name="存储结果全量重算 / recompute stored results",
        task="workers.tasks.stored_results_nightly",
        crontab={"minute": "0", "hour": "1"},
        description="每晚重新计算全部存储结果:各年度指标数据、租户行业构成、在谈线索的最佳楼宇",
    ),
    Entry(
        name="房源预留到期释放 / release expired holds",
        task="workers.tasks.reservations_nightly_task",
        crontab={"minute": "15", "hour": "0"},
        description="释放已过期的房源预留,并提前一天通知预留人",
    ),
    Entry(
        name="指标快照与迁出预警 / indicator snapshots and warnings",
        task="workers.tasks.indicators_and_warnings_nightly",
        crontab={"minute": "30", "hour": "1"},
        description="保存全区、镇街、楼宇指标快照;税收层级变动、租约90天内到期、税收同比降30%以上生成预警任务",
    ),
    Entry(
        name="招商人员考核 / promoter appraisal",
        task="workers.tasks.appraisal_nightly",
        crontab={"minute": "30", "hour": "2"},
        description="计算本月、本季、本年(及刚结束周期)的考核得分与排名",
    ),
    Entry(
        name="镇街考核 / street assessment",
        task="workers.tasks.street_assessment_nightly",
        crontab={"minute": "0", "hour": "3"},
        description="各镇街指标对照目标、签约、税收增长及招商人员考核",
    ),
    Entry(
        name="模型重新训练 / retrain matching models",
        task="workers.tasks.models_retrain_nightly",
        crontab={"minute": "30", "hour": "3"},
        description="签约、看房或企业数据有变化时重新训练排序权重与行业识别模型;新模型更差则保留旧版本",
    ),
    Entry(
        name="迁出风险模型重新训练 / retrain the move-out model",
        task="workers.tasks.retention_retrain_nightly",
        crontab={"minute": "45", "hour": "3"},
        description="按季度快照重新训练企业迁出风险模型;新模型评估更差则保留旧版本;新模型即重新评分全部在租企业",
    ),
    Entry(
        name="联系人信息保存期限 / contact retention",
        task="workers.tasks.contacts_retention_nightly",
        crontab={"minute": "45", "hour": "0"},
        description="删除流失超过保存期限(CONTACT_RETENTION_DAYS_AFTER_LOST,默认730天)的线索联系人信息",
    ),
    Entry(
        name="年度白皮书 / yearly white paper",
        task="workers.tasks.white_paper_yearly",
        crontab={"minute": "0", "hour": "4", "day_of_month": "15", "month_of_year": "1"},
        description="每年1月15日生成上一年度白皮书(HTML与PDF)",
    ),
)


def seed_schedule(apps, *, time_zone: str) -> int:
    """Create the default periodic tasks that do not exist yet (by name); an edited one is left alone.

    `apps` is a migration's historical registry or django.apps.apps. Returns how many were created.
    """
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    created = 0
    for entry in DEFAULT_SCHEDULE:
        if PeriodicTask.objects.filter(name=entry.name).exists():
            continue
        when = {}
        if entry.every_minutes is not None:
            when["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=entry.every_minutes, period="minutes"
            )
        else:
            cron = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
            cron.update(entry.crontab)
            when["crontab"], _ = CrontabSchedule.objects.get_or_create(timezone=time_zone, **cron)
        PeriodicTask.objects.create(name=entry.name, task=entry.task, description=entry.description, **when)
        created += 1
    return created
