import { FullscreenOutlined, ReloadOutlined } from '@ant-design/icons';
import { Breadcrumb, Button, Card, Col, Empty, List, Row, Segmented, Select, Space, Statistic, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { get, itemsOf, qs, totalOf } from '../../api/client';
import { useAuth } from '../../auth/AuthContext';
import { AsyncView } from '../../components/AsyncView';
import { EChart, type EChartsOption } from '../../components/EChart';
import { bounds, budgetTotals, childLevel, levelOfCode, lngDegreesPerMetre, periodParam, readKpis, type BudgetRow, type Kpis, type Period } from '../../lib/dashboard';
import { ago, chinaMonth, percent, yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ALERT_KINDS, ALERT_STATES, label, ORDER_STATES, SEVERITIES, SEVERITY_COLORS } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

interface Region {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  centre: { lat: number; lng: number };
}
interface Facility {
  facilityId: string;
  name: string;
  kind: string;
  kindLabel?: { zh: string; en: string };
  location: { lat: number; lng: number };
  open: boolean;
  beds?: { total: number; occupied: number };
}
interface Coverage {
  regionName: string;
  elders: { active: number; byCategory: { category: string; labelZh: string; labelEn: string; count: number }[] };
  beds: { total: number; perThousandElders: number | null };
  familyCareBeds: number;
  serviceCircle: { walkMetres: number; servicePoints: number; coveredElders: number; share: number | null };
  facilityCoverage: { streetsWithCentre: { covered: number; total: number; share: number | null }; communitiesWithStation: { covered: number; total: number; share: number | null } };
}
export interface AlertRow {
  alertId: string;
  kind: string;
  severity: string;
  state?: string;
  status?: string;
  elderId?: string | null;
  elderName?: string;
  facilityId?: string | null;
  reason?: string;
  regionCode?: string;
  raisedAt?: string;
  deviceId?: string;
}

const SERVICE_POINT_KINDS = ['STREET_CENTRE', 'DAY_CARE_STATION', 'CANTEEN'];
const KIND_COLORS: Record<string, string> = { STREET_CENTRE: '#cf1322', DAY_CARE_STATION: '#1677ff', CANTEEN: '#fa8c16', INSTITUTION: '#722ed1' };

export function DashboardPage() {
  const { user } = useAuth();
  const { t, lang } = useI18n();
  const root = user?.regionCode ?? '';
  const [path, setPath] = useState<string[]>([root]);
  const [period, setPeriod] = useState<Period>('today');
  const [params, setParams] = useSearchParams();
  const wall = params.get('wall') === '1';
  const code = path[path.length - 1];

  const regionNames = useApi(() => Promise.all(path.map((c) => get<Region>(`/regions/${c}`).catch(() => null))), path.join('/'));
  const children = useApi(() => get<Region[]>(`/regions${qs({ parentCode: code })}`).then(itemsOf<Region>), code);
  const kpis = useApi(() => get<unknown>(`/dashboards/${code}${qs({ period: periodParam(period) })}`).then(readKpis), `${code}-${period}`, 30_000);
  const alertPage = useApi(() => get<unknown>(`/alerts${qs({ regionCode: code, status: 'OPEN', pageSize: 20 })}`), code, 5_000);
  const alerts = { ...alertPage, data: alertPage.data === undefined ? undefined : itemsOf<AlertRow>(alertPage.data) };
  const providerNames = useApi(() => get<unknown>('/providers?pageSize=200').then((r) => new Map(itemsOf<{ providerId: string; name: string }>(r).map((p) => [p.providerId, p.name]))), 'providers');
  // Subsidy spent vs budget straight from billing when the KPI answer does not carry it.
  const budgets = useApi(() => get<unknown>(`/budgets${qs({ year: Number(chinaMonth().slice(0, 4)) })}`).then((r) => budgetTotals(itemsOf<BudgetRow>(r), code)), code, 60_000);
  const figures = useMemo<Kpis | undefined>(() => {
    const k = kpis.data ?? (budgets.data ? readKpis({}) : undefined);
    if (!k) return k;
    const named = { ...k, providerRanking: k.providerRanking.map((r) => ({ ...r, name: providerNames.data?.get(r.providerId) ?? r.name })) };
    // Unanswered alerts right now (the live list), when the figures do not count them.
    const open = alertPage.data === undefined ? null : totalOf(alertPage.data);
    const withOpen = named.alertsOpen === null && open !== null ? { ...named, alertsOpen: open } : named;
    if (!budgets.data || withOpen.budgetFen !== null) return withOpen;
    return { ...withOpen, subsidySpentFen: withOpen.subsidySpentFen ?? budgets.data.spentFen, budgetFen: budgets.data.allocatedFen };
  }, [kpis.data, budgets.data, providerNames.data, alertPage.data]);
  const coverage = useApi(() => get<Coverage>(`/coverage/${code}`), code, 60_000);
  const facilities = useApi(() => get<unknown>(`/facilities${qs({ regionCode: code, pageSize: 200 })}`).then(itemsOf<Facility>), code);

  const next = childLevel(levelOfCode(code) ?? '');
  const drillTo = (c: string) => setPath((p) => [...p, c]);

  return (
    <div data-testid="dashboard">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }} wrap>
        <Space wrap>
          <Breadcrumb
            items={path.map((c, i) => ({
              title:
                i < path.length - 1 ? (
                  <a onClick={() => setPath(path.slice(0, i + 1))}>{regionNames.data?.[i]?.name ?? c}</a>
                ) : (
                  <Typography.Text strong style={{ fontSize: 18 }}>
                    {regionNames.data?.[i]?.name ?? c}
                  </Typography.Text>
                ),
            }))}
          />
          {next && (children.data?.length ?? 0) > 0 && (
            <Select
              placeholder={next === 'STREET' ? t('下钻到街道', 'Drill into a street') : t('下钻到社区', 'Drill into a community')}
              style={{ minWidth: 200 }}
              options={children.data?.map((r) => ({ value: r.code, label: r.name }))}
              onChange={drillTo}
              value={null}
              data-testid="drill-down"
            />
          )}
        </Space>
        <Space>
          <Segmented<Period>
            value={period}
            onChange={setPeriod}
            options={[
              { value: 'today', label: t('今日', 'Today') },
              { value: 'month', label: t('本月', 'This month') },
              { value: 'lastMonth', label: t('上月', 'Last month') },
            ]}
          />
          <Button icon={<ReloadOutlined />} onClick={() => (kpis.reload(), coverage.reload(), alerts.reload())} aria-label={t('刷新', 'Refresh')} />
          <Button
            icon={<FullscreenOutlined />}
            onClick={() => {
              const next = new URLSearchParams(params);
              if (wall) next.delete('wall');
              else next.set('wall', '1');
              setParams(next);
              if (!wall) void document.documentElement.requestFullscreen?.().catch(() => undefined);
              else if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
            }}
          >
            {wall ? t('退出大屏', 'Leave wall display') : t('大屏', 'Wall display')}
          </Button>
        </Space>
      </Space>

      <KpiCards kpis={{ ...kpis, data: figures }} coverage={coverage.data} />

      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} xl={14}>
          <Card title={t('服务网点与15分钟养老服务圈', 'Service points and the 15-minute circle')} size="small">
            <AsyncView {...facilities} isEmpty={(f) => f.length === 0} emptyText={t('该区域暂无登记的服务设施', 'No facilities registered here')}>
              {(f) => <ServiceMap facilities={f} regions={children.data ?? []} walkMetres={coverage.data?.serviceCircle.walkMetres ?? 1000} onPick={next ? drillTo : undefined} />}
            </AsyncView>
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card
            title={
              <Space>
                {t('实时告警', 'Live alerts')}
                {alerts.at && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('每5秒刷新', 'refreshes every 5 s')}</Typography.Text>}
              </Space>
            }
            size="small"
            styles={{ body: { maxHeight: 470, overflow: 'auto' } }}
          >
            <AsyncView {...alerts} isEmpty={(a) => a.length === 0} emptyText={t('当前没有待处理的告警', 'No open alerts')}>
              {(rows) => (
                <List
                  data-testid="live-alerts"
                  dataSource={rows}
                  renderItem={(a) => (
                    <List.Item>
                      <List.Item.Meta
                        title={
                          <Space>
                            <Tag color={SEVERITY_COLORS[a.severity] ?? 'default'}>{label(SEVERITIES, a.severity, lang)}</Tag>
                            {label(ALERT_KINDS, a.kind, lang)}
                            <Tag>{label(ALERT_STATES, a.state ?? a.status, lang)}</Tag>
                          </Space>
                        }
                        description={[a.elderName, lang === 'en' ? a.reason : undefined, ago(a.raisedAt, lang)].filter(Boolean).join(' · ')}
                      />
                    </List.Item>
                  )}
                />
              )}
            </AsyncView>
          </Card>
        </Col>
      </Row>

      <Charts kpis={figures} coverage={coverage.data} />
    </div>
  );
}

function KpiCards({ kpis, coverage }: { kpis: { data?: Kpis; error: unknown; loading: boolean }; coverage?: Coverage }) {
  const { t } = useI18n();
  const k = kpis.data;
  const dash = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v);
  const cards: { title: string; value: string | number; suffix?: string; testId: string }[] = [
    { title: t('服务工单', 'Orders'), value: dash(k?.ordersPlaced), testId: 'kpi-orders' },
    { title: t('按时上门率', 'On time'), value: percent(k?.onTimeShare), testId: 'kpi-ontime' },
    { title: t('一键呼叫响应（中位）', 'SOS response (median)'), value: k?.sosMedianResponseSeconds == null ? '—' : Math.round(k.sosMedianResponseSeconds), suffix: k?.sosMedianResponseSeconds == null ? undefined : t('秒', 's'), testId: 'kpi-sos' },
    { title: t('待处理告警', 'Open alerts'), value: dash(k?.alertsOpen), testId: 'kpi-alerts' },
    { title: t('巡访完成 / 应访', 'Rounds done / due'), value: k?.roundsDue == null ? '—' : `${k.roundsCompleted ?? 0} / ${k.roundsDue}`, testId: 'kpi-rounds' },
    { title: t('满意度', 'Satisfaction'), value: k?.satisfaction == null ? '—' : k.satisfaction.toFixed(2), suffix: k?.satisfaction == null ? undefined : '/ 5', testId: 'kpi-satisfaction' },
    { title: t('补贴支出 / 预算', 'Subsidy spent / budget'), value: k?.subsidySpentFen == null ? '—' : `${yuan(k.subsidySpentFen)} / ${yuan(k.budgetFen)}`, testId: 'kpi-subsidy' },
    { title: t('15分钟服务圈覆盖', '15-min circle coverage'), value: percent(coverage?.serviceCircle.share), testId: 'kpi-coverage' },
  ];
  return (
    <Row gutter={[12, 12]}>
      {cards.map((c) => (
        <Col key={c.testId} xs={12} md={6} xxl={3}>
          <Card size="small" data-testid={c.testId} loading={kpis.loading && !k && c.testId !== 'kpi-coverage'}>
            <Statistic title={c.title} value={c.value} suffix={c.suffix} styles={{ content: { fontSize: 22 } }} />
          </Card>
        </Col>
      ))}
      {!!kpis.error && !k && (
        <Col span={24}>
          <Typography.Text type="secondary">{t('监测指标服务暂无数据，以下仅显示档案与设施统计。', 'The KPI service has no figures yet; showing registry figures only.')}</Typography.Text>
        </Col>
      )}
    </Row>
  );
}

function ServiceMap({ facilities, regions, walkMetres, onPick }: { facilities: Facility[]; regions: Region[]; walkMetres: number; onPick?: (code: string) => void }) {
  const { t, lang } = useI18n();
  const option = useMemo<EChartsOption>(() => {
    const located = facilities.filter((f) => f.location && Number.isFinite(f.location.lat));
    const b = bounds([...located.map((f) => f.location), ...regions.map((c) => c.centre).filter(Boolean)]);
    const kinds = [...new Set(located.map((f) => f.kind))];
    const circles = located.filter((f) => f.open && SERVICE_POINT_KINDS.includes(f.kind));
    return {
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: false },
      xAxis: { type: 'value', min: b?.minLng, max: b?.maxLng, show: false, scale: true },
      yAxis: { type: 'value', min: b?.minLat, max: b?.maxLat, show: false, scale: true },
      series: [
        {
          name: t(`15分钟服务圈（步行${(walkMetres / 1000).toFixed(1)}公里）`, `15-minute circle (${(walkMetres / 1000).toFixed(1)} km walk)`),
          itemStyle: { color: 'rgba(82,196,26,0.55)' },
          type: 'custom',
          silent: true,
          data: circles.map((f) => [f.location.lng, f.location.lat]),
          renderItem: (_params, api) => {
            const lng = Number(api.value(0));
            const lat = Number(api.value(1));
            const c = api.coord([lng, lat]);
            const e = api.coord([lng + walkMetres * lngDegreesPerMetre(lat), lat]);
            return { type: 'circle', shape: { cx: c[0], cy: c[1], r: Math.abs(e[0] - c[0]) }, style: { fill: 'rgba(82,196,26,0.045)', stroke: 'rgba(82,196,26,0.22)', lineWidth: 1 } };
          },
          z: 1,
        },
        ...kinds.map((kind) => {
          const sample = located.find((f) => f.kind === kind);
          return {
            name: sample?.kindLabel ? (lang === 'en' ? sample.kindLabel.en : sample.kindLabel.zh) : kind,
            type: 'scatter' as const,
            symbolSize: kind === 'STREET_CENTRE' ? 16 : 10,
            itemStyle: { color: KIND_COLORS[kind] ?? '#595959' },
            data: located.filter((f) => f.kind === kind).map((f) => ({ value: [f.location.lng, f.location.lat], name: f.name })),
            tooltip: { formatter: (p: { name: string }) => p.name },
            z: 3,
          };
        }),
        {
          name: t('下级区划', 'Sub-regions'),
          type: 'scatter' as const,
          symbol: 'diamond',
          symbolSize: 12,
          itemStyle: { color: '#262626' },
          label: { show: true, position: 'right', formatter: '{b}', fontSize: 12 },
          data: regions.filter((c) => c.centre).map((c) => ({ value: [c.centre.lng, c.centre.lat], name: c.name, code: c.code })),
          tooltip: { formatter: (p: { name: string }) => `${p.name}${onPick ? t('（点击下钻）', ' (click to drill down)') : ''}` },
          z: 4,
        },
      ],
    };
  }, [facilities, regions, walkMetres, t, lang, onPick]);
  if (!facilities.length) return <Empty />;
  return (
    <EChart
      option={option}
      height={440}
      label="service-map"
      onClick={(p) => {
        const code = (p.data as { code?: string } | undefined)?.code;
        if (code && onPick) onPick(code);
      }}
    />
  );
}

function Charts({ kpis, coverage }: { kpis?: Kpis; coverage?: Coverage }) {
  const { t, lang } = useI18n();
  const options = useMemo(() => {
    const list: { key: string; title: string; option: EChartsOption | null }[] = [];
    const trend = kpis?.trend ?? [];
    list.push({
      key: 'orders',
      title: trend.length ? t('工单与告警趋势', 'Orders and alerts over time') : t('工单与服务核验', 'Orders and visit verification'),
      option: trend.length
        ? {
            tooltip: { trigger: 'axis' },
            legend: { top: 0 },
            grid: { left: 40, right: 16, top: 32, bottom: 28 },
            xAxis: { type: 'category', data: trend.map((x) => x.date) },
            yAxis: { type: 'value' },
            series: [
              { name: t('工单', 'Orders'), type: 'line', smooth: true, data: trend.map((x) => x.orders ?? 0) },
              { name: t('告警', 'Alerts'), type: 'line', smooth: true, data: trend.map((x) => x.alerts ?? 0) },
            ],
          }
        : kpis?.ordersByState.length
          ? {
              tooltip: {},
              grid: { left: 40, right: 16, top: 16, bottom: 48 },
              xAxis: { type: 'category', data: kpis.ordersByState.map((s) => label(ORDER_STATES, s.state, lang)), axisLabel: { rotate: 30 } },
              yAxis: { type: 'value' },
              series: [{ type: 'bar', data: kpis.ordersByState.map((s) => s.count), itemStyle: { color: '#1677ff' } }],
            }
          : kpis && kpis.ordersPlaced !== null
            ? {
                tooltip: {},
                grid: { left: 40, right: 16, top: 16, bottom: 28 },
                xAxis: {
                  type: 'category',
                  data: [t('下单', 'Placed'), t('按时到达', 'Arrived'), t('核验通过', 'Verified'), t('异常待审', 'Flagged'), t('完成', 'Completed'), t('投诉', 'Complaints')],
                },
                yAxis: { type: 'value', minInterval: 1 },
                series: [
                  {
                    type: 'bar',
                    label: { show: true, position: 'top' },
                    data: [
                      { value: kpis.ordersPlaced ?? 0, itemStyle: { color: '#1677ff' } },
                      { value: kpis.arrivals ?? 0, itemStyle: { color: '#13c2c2' } },
                      { value: kpis.visitsVerified ?? 0, itemStyle: { color: '#52c41a' } },
                      { value: kpis.visitsFlagged ?? 0, itemStyle: { color: '#fa8c16' } },
                      { value: kpis.ordersCompleted ?? 0, itemStyle: { color: '#389e0d' } },
                      { value: kpis.complaints ?? 0, itemStyle: { color: '#cf1322' } },
                    ],
                  },
                ],
              }
            : null,
    });
    list.push({
      key: 'alerts',
      title: t('告警类型', 'Alerts by kind'),
      option: kpis?.alertsByKind.length
        ? {
            tooltip: { trigger: 'item' },
            legend: { bottom: 0, type: 'scroll' },
            series: [
              {
                type: 'pie',
                radius: ['40%', '68%'],
                data: kpis.alertsByKind.map((a) => ({ name: label(ALERT_KINDS, a.kind, lang), value: a.count })),
              },
            ],
          }
        : null,
    });
    const spent = kpis?.subsidySpentFen ?? null;
    const budget = kpis?.budgetFen ?? null;
    list.push({
      key: 'subsidy',
      title: t('补贴支出与预算', 'Subsidy spent vs budget'),
      option:
        spent !== null && budget
          ? {
              series: [
                {
                  type: 'gauge',
                  min: 0,
                  max: 100,
                  progress: { show: true, width: 14 },
                  axisLine: { lineStyle: { width: 14 } },
                  detail: { formatter: '{value}%', fontSize: 22 },
                  data: [{ value: Math.round((spent / budget) * 1000) / 10, name: `${yuan(spent)} / ${yuan(budget)}` }],
                  title: { offsetCenter: [0, '75%'], fontSize: 12 },
                },
              ],
            }
          : null,
    });
    const ranking = (kpis?.providerRanking ?? []).slice(0, 10);
    list.push({
      key: 'ranking',
      title: t('服务机构排名', 'Provider ranking'),
      option: ranking.length
        ? {
            tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
            grid: { left: 120, right: 24, top: 16, bottom: 24 },
            xAxis: { type: 'value' },
            yAxis: { type: 'category', inverse: true, data: ranking.map((r) => r.name), axisLabel: { width: 110, overflow: 'truncate' } },
            series: [
              {
                type: 'bar',
                name: t('综合得分', 'Score'),
                data: ranking.map((r) => r.score ?? r.satisfaction ?? r.orders ?? 0),
                itemStyle: { color: '#13c2c2' },
                label: { show: true, position: 'right' },
              },
            ],
          }
        : null,
    });
    list.push({
      key: 'categories',
      title: t('重点老人类别', 'Elders by priority group'),
      option: coverage?.elders.byCategory.length
        ? {
            tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
            grid: { left: 90, right: 40, top: 16, bottom: 24 },
            xAxis: { type: 'value' },
            yAxis: { type: 'category', inverse: true, data: coverage.elders.byCategory.map((c) => (lang === 'en' ? c.labelEn : c.labelZh)) },
            series: [{ type: 'bar', data: coverage.elders.byCategory.map((c) => c.count), itemStyle: { color: '#722ed1' }, label: { show: true, position: 'right' } }],
          }
        : null,
    });
    list.push({
      key: 'coverage',
      title: t('设施覆盖（一街一中心、一社区一站点）', 'Facility coverage (centre per street, station per community)'),
      option: coverage
        ? {
            tooltip: {},
            grid: { left: 40, right: 16, top: 24, bottom: 28 },
            xAxis: { type: 'category', data: [t('15分钟服务圈', '15-min circle'), t('街道有中心', 'Streets w/ centre'), t('社区有站点', 'Communities w/ station')] },
            yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
            series: [
              {
                type: 'bar',
                // No denominator (no elders, no streets yet) is "no figure", not 0 %.
                data: [coverage.serviceCircle.share, coverage.facilityCoverage.streetsWithCentre.share, coverage.facilityCoverage.communitiesWithStation.share].map((s) => (s === null ? '-' : Math.round(s * 1000) / 10)),
                itemStyle: { color: '#52c41a' },
                label: { show: true, position: 'top', formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? `${p.value}%` : '—') },
              },
            ],
          }
        : null,
    });
    return list;
  }, [kpis, coverage, t, lang]);

  return (
    <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
      {options.map((o) => (
        <Col key={o.key} xs={24} md={12} xxl={8}>
          <Card title={o.title} size="small">
            {o.option ? <EChart option={o.option} height={260} label={`chart-${o.key}`} /> : <Empty description={t('暂无数据', 'No data yet')} style={{ height: 236 }} />}
          </Card>
        </Col>
      ))}
    </Row>
  );
}
