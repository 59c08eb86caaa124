import { EnvironmentOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Input, Layout, List, Modal, Radio, Space, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { LangSwitch, UserBox } from '../../components/AppLayout';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { chinaTime } from '../../lib/format';
import { currentPosition, parseLatLng, type LatLng } from '../../lib/geo';
import { useI18n } from '../../lib/i18n';
import { label, ORDER_STATE_COLORS, ORDER_STATES, VISIT_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';
import { useItemName } from '../../lib/catalogue';

interface Offer {
  offer?: { offerId: string; expiresAt: string } | null;
  orderId: string;
  itemCode: string;
  itemName?: string;
  elderName?: string;
  address?: string;
  homeAddress?: string;
  distanceMeters?: number;
  expiresAt?: string;
  window?: { from: string; to: string; asap: boolean };
  bookedMinutes?: number;
  notes?: string;
  order?: { itemCode: string; window?: { from: string; to: string } };
}
/** dispatch's GET /my-day (docs/adr/0007-dispatch.md, "My day"). */
interface DayElder {
  elderId: string;
  name: string | null;
  address: string | null;
  location: LatLng | null;
}
interface DayItemInfo {
  code: string;
  nameZh: string;
  nameEn: string;
  bookedMinutes?: number;
}
interface NextAction {
  action: 'ACCEPT' | 'SET_OFF' | 'CHECK_IN' | 'CHECK_OUT' | string;
  path: string;
  labelZh: string;
  labelEn: string;
}
interface Stop {
  seq: number;
  orderId: string;
  visitId?: string | null;
  state: string;
  elder: DayElder;
  item: DayItemInfo;
  window: { from: string; to: string; asap: boolean };
  notes?: string;
  next: NextAction | null;
  travelMinutes: number;
  legMeters: number;
  plannedStart: string;
  late: boolean;
}
interface DoneVisit {
  visitId: string;
  state: string;
  flags: string[];
  elder: DayElder;
  item: DayItemInfo;
  startedAt: string;
  endedAt: string | null;
}
interface RoundCard {
  roundId: string;
  dueOn: string;
  dueToday: boolean;
  overdue: boolean;
  elder: DayElder;
}
interface MyDayResponse {
  date: string;
  summary: { stops: number; done: number; roundsDue: number; travelMeters: number; serviceMinutes: number; late: number };
  route: Stop[];
  done: DoneVisit[];
  rounds: RoundCard[];
}

/** Mobile-width: the caregiver works from a phone at the door. */
export function CaregiverPage() {
  const { t } = useI18n();
  const offers = useApi(() => get<unknown>(`/offers${qs({ mine: 1 })}`).then(itemsOf<Offer>), 'offers', 5_000);
  const day = useApi(() => get<MyDayResponse>('/my-day'), 'my-day', 10_000);
  return (
    <Layout style={{ minHeight: '100vh', background: '#f5f7fa' }}>
      <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'space-between', alignItems: 'center', paddingInline: 12 }}>
        <Typography.Text strong style={{ fontSize: 18 }}>
          {t('我的工作', 'My work')}
        </Typography.Text>
        <Space size={6}>
          <LangSwitch />
          <UserBox compact />
        </Space>
      </Layout.Header>
      <Layout.Content style={{ padding: 12, maxWidth: 480, width: '100%', margin: '0 auto' }} data-testid="caregiver-page">
        <Tabs
          items={[
            { key: 'offers', label: `${t('新派单', 'Offers')}${offers.data?.length ? `（${offers.data.length}）` : ''}`, children: <Offers offers={offers} onAccepted={day.reload} /> },
            { key: 'day', label: t('今日服务', 'My day'), children: <MyDay day={day} /> },
          ]}
        />
      </Layout.Content>
    </Layout>
  );
}

function Offers({ offers, onAccepted }: { offers: { data?: Offer[]; error: unknown; loading: boolean; reload: () => void }; onAccepted: () => void }) {
  const { t } = useI18n();
  const act = useAction();
  const itemName = useItemName();
  return (
    <AsyncView {...offers} isEmpty={(o) => !o.length} emptyText={t('暂时没有新的派单', 'No offers right now')}>
      {(rows) => (
        <List
          dataSource={rows}
          renderItem={(o) => (
            <Card style={{ marginBottom: 12 }} data-testid="offer">
              <Space direction="vertical" style={{ width: '100%' }}>
                <Typography.Text strong style={{ fontSize: 18 }}>
                  {o.itemName ?? itemName(o.itemCode ?? o.order?.itemCode ?? '')}
                </Typography.Text>
                <Typography.Text>{[o.elderName, o.address ?? o.homeAddress].filter(Boolean).join(' · ')}</Typography.Text>
                <Typography.Text>
                  {o.window?.asap ? t('尽快上门', 'As soon as possible') : o.window ? `${chinaTime(o.window.from)} – ${chinaTime(o.window.to).slice(11)}` : ''}
                  {o.bookedMinutes ? t(` · 约 ${o.bookedMinutes} 分钟`, ` · about ${o.bookedMinutes} min`) : ''}
                </Typography.Text>
                {!!o.notes && <Typography.Text type="secondary">{t('家属留言：', 'Note: ')}{o.notes}</Typography.Text>}
                {o.distanceMeters !== undefined && <Typography.Text type="secondary">{t(`距您约 ${(o.distanceMeters / 1000).toFixed(1)} 公里`, `About ${(o.distanceMeters / 1000).toFixed(1)} km away`)}</Typography.Text>}
                {(o.offer?.expiresAt ?? o.expiresAt) && <Typography.Text type="warning">{t('请在此时间前接单：', 'Accept before: ')}{chinaTime(o.offer?.expiresAt ?? o.expiresAt)}</Typography.Text>}
                <Space>
                  <Button
                    type="primary"
                    size="large"
                    data-testid="offer-accept"
                    onClick={() => act({ run: () => post(`/offers/${o.orderId}/accept`, {}), done: t('已接单', 'Accepted') }).then((ok) => ok && (offers.reload(), onAccepted()))}
                  >
                    {t('接单', 'Accept')}
                  </Button>
                  <Button
                    size="large"
                    onClick={() =>
                      act({ confirm: { title: t('确定拒绝这张派单？', 'Decline this offer?') }, run: () => post(`/offers/${o.orderId}/decline`, { reason: 'Declined in the app' }), done: t('已拒绝', 'Declined') }).then(
                        (ok) => ok && offers.reload(),
                      )
                    }
                  >
                    {t('拒绝', 'Decline')}
                  </Button>
                </Space>
              </Space>
            </Card>
          )}
        />
      )}
    </AsyncView>
  );
}

function MyDay({ day }: { day: { data?: MyDayResponse; error: unknown; loading: boolean; reload: () => void } }) {
  const { t, lang } = useI18n();
  const act = useAction();
  const [punch, setPunch] = useState<{ item: Stop; kind: 'check-in' | 'check-out' } | null>(null);
  const [round, setRound] = useState<RoundCard | null>(null);
  const itemName = (i: DayItemInfo) => (lang === 'en' ? i.nameEn : i.nameZh);
  const onNext = (s: Stop) => {
    const next = s.next;
    if (!next) return;
    if (next.action === 'CHECK_IN') return setPunch({ item: s, kind: 'check-in' });
    if (next.action === 'CHECK_OUT') return setPunch({ item: s, kind: 'check-out' });
    void act({ run: () => post(next.path, {}), done: lang === 'en' ? next.labelEn : next.labelZh }).then((ok) => ok && day.reload());
  };
  return (
    <>
      <AsyncView {...day} isEmpty={(d) => !d.route.length && !d.done.length && !d.rounds.length} emptyText={t('今天没有安排服务', 'Nothing planned today')}>
        {(d) => (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Typography.Text type="secondary" data-testid="day-summary">
              {t(
                `${d.summary.stops} 个上门点 · 路程约 ${(d.summary.travelMeters / 1000).toFixed(1)} 公里 · 服务 ${d.summary.serviceMinutes} 分钟${d.summary.late ? ` · ${d.summary.late} 个可能迟到` : ''}`,
                `${d.summary.stops} stops · about ${(d.summary.travelMeters / 1000).toFixed(1)} km · ${d.summary.serviceMinutes} min of service${d.summary.late ? ` · ${d.summary.late} may be late` : ''}`,
              )}
            </Typography.Text>
            <List
              dataSource={d.route}
              renderItem={(s) => (
                <Card style={{ marginBottom: 12 }} data-testid="day-item" data-state={s.state}>
                  <Space direction="vertical" style={{ width: '100%' }}>
                    <Space style={{ justifyContent: 'space-between', width: '100%' }}>
                      <Typography.Text strong style={{ fontSize: 18 }}>
                        {s.seq}. {itemName(s.item)}
                      </Typography.Text>
                      <Tag color={ORDER_STATE_COLORS[s.state]}>{label(ORDER_STATES, s.state, lang)}</Tag>
                    </Space>
                    <Typography.Text>{[s.elder.name, s.elder.address].filter(Boolean).join(' · ')}</Typography.Text>
                    <Typography.Text type="secondary">
                      {t(`预计 ${chinaTime(s.plannedStart).slice(11)} 到达`, `Expected at ${chinaTime(s.plannedStart).slice(11)}`)}
                      {s.travelMinutes ? t(` · 路上约 ${s.travelMinutes} 分钟`, ` · ${s.travelMinutes} min on the way`) : ''}
                      {s.window.asap ? t(' · 尽快上门', ' · as soon as possible') : ` · ${chinaTime(s.window.from).slice(11)}–${chinaTime(s.window.to).slice(11)}`}
                    </Typography.Text>
                    {s.late && <Tag color="orange">{t('可能迟到，请联系家属', 'May be late: call the family')}</Tag>}
                    {!!s.notes && <Typography.Text type="secondary">{t('家属留言：', 'Note: ')}{s.notes}</Typography.Text>}
                    {s.next && (
                      <Button type="primary" size="large" block icon={<EnvironmentOutlined />} onClick={() => onNext(s)} data-testid={s.next.action === 'CHECK_OUT' ? 'check-out' : s.next.action === 'CHECK_IN' ? 'check-in' : 'next-action'}>
                        {lang === 'en' ? s.next.labelEn : s.next.labelZh}
                      </Button>
                    )}
                  </Space>
                </Card>
              )}
            />
            {d.rounds.length > 0 && (
              <Card size="small" title={t('巡访', 'Visiting rounds')} data-testid="day-rounds">
                <List
                  dataSource={d.rounds}
                  renderItem={(r) => (
                    <List.Item actions={[<Button key="record" onClick={() => setRound(r)}>{t('记录巡访', 'Record')}</Button>]}>
                      <Space direction="vertical" size={0}>
                        <Typography.Text>{[r.elder.name, r.elder.address].filter(Boolean).join(' · ')}</Typography.Text>
                        <Typography.Text type={r.overdue ? 'danger' : 'secondary'}>
                          {r.overdue ? t(`已逾期（应于 ${r.dueOn}）`, `Overdue (due ${r.dueOn})`) : t(`应于 ${r.dueOn} 前`, `Due by ${r.dueOn}`)}
                        </Typography.Text>
                      </Space>
                    </List.Item>
                  )}
                />
              </Card>
            )}
            {d.done.length > 0 && (
              <Card size="small" title={t('今日已完成', 'Done today')} data-testid="day-done">
                <List
                  dataSource={d.done}
                  renderItem={(v) => (
                    <List.Item>
                      <Space direction="vertical" size={0}>
                        <Typography.Text>
                          {itemName(v.item)} · {v.elder.name ?? ''}
                        </Typography.Text>
                        <Typography.Text type="secondary">
                          {chinaTime(v.startedAt).slice(11)}–{v.endedAt ? chinaTime(v.endedAt).slice(11) : '…'}
                        </Typography.Text>
                      </Space>
                      <Tag color={v.state === 'FLAGGED' ? 'orange' : v.state === 'IN_PROGRESS' ? 'processing' : 'green'}>{label(VISIT_STATES, v.state, lang)}</Tag>
                    </List.Item>
                  )}
                />
              </Card>
            )}
          </Space>
        )}
      </AsyncView>
      <PunchDialog punch={punch} onClose={(changed) => (setPunch(null), changed && day.reload())} />
      <RoundDialog round={round} onClose={(changed) => (setRound(null), changed && day.reload())} />
    </>
  );
}

/** A visiting round's finding: fine, needs a service (dispatch opens an order) or urgent (an emergency). */
function RoundDialog({ round, onClose }: { round: RoundCard | null; onClose: (changed: boolean) => void }) {
  const { t } = useI18n();
  const act = useAction();
  const [finding, setFinding] = useState<'FINE' | 'NEEDS_SERVICE' | 'URGENT'>('FINE');
  const [itemCode, setItemCode] = useState('');
  const [notes, setNotes] = useState('');
  if (!round) return null;
  const submit = async () => {
    const body = { finding, notes, ...(finding === 'NEEDS_SERVICE' ? { itemCode: itemCode.trim().toUpperCase() } : {}) };
    if (await act({ run: () => post(`/rounds/${round.roundId}/complete`, body), done: t('巡访已记录', 'Round recorded') })) onClose(true);
  };
  return (
    <Modal open title={t('记录巡访', 'Record the round')} okText={t('提交', 'Submit')} cancelText={t('取消', 'Cancel')} onOk={submit} onCancel={() => onClose(false)} okButtonProps={{ disabled: finding === 'NEEDS_SERVICE' && !itemCode.trim() }}>
      <Radio.Group value={finding} onChange={(e) => setFinding(e.target.value)}>
        <Space direction="vertical">
          <Radio value="FINE">{t('一切正常', 'All is well')}</Radio>
          <Radio value="NEEDS_SERVICE">{t('需要服务（将生成服务订单）', 'Needs a service (an order is placed)')}</Radio>
          <Radio value="URGENT">{t('紧急情况（将启动紧急响应）', 'Urgent (an emergency is raised)')}</Radio>
        </Space>
      </Radio.Group>
      {finding === 'NEEDS_SERVICE' && <Input style={{ marginTop: 12 }} placeholder={t('服务项目编码，如 HOME_CLEANING', 'Service item code, e.g. HOME_CLEANING')} value={itemCode} onChange={(e) => setItemCode(e.target.value)} />}
      <Input.TextArea style={{ marginTop: 12 }} rows={3} placeholder={t('情况记录', 'Notes')} value={notes} onChange={(e) => setNotes(e.target.value)} maxLength={2000} />
    </Modal>
  );
}

/** Check-in/out: the browser's position first; when refused or unavailable, a manual fallback for the demo. */
function PunchDialog({ punch, onClose }: { punch: { item: Stop; kind: 'check-in' | 'check-out' } | null; onClose: (changed: boolean) => void }) {
  const { t } = useI18n();
  const act = useAction();
  const [mode, setMode] = useState<'gps' | 'home' | 'typed'>('gps');
  const [typed, setTyped] = useState('');
  const [gpsFailed, setGpsFailed] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!punch) return null;
  const { item, kind } = punch;
  const submit = async () => {
    setBusy(true);
    let location: LatLng | null = null;
    let accuracy: number | null = null;
    if (mode === 'gps') {
      const fix = await currentPosition();
      location = fix ? { lat: fix.lat, lng: fix.lng } : null;
      accuracy = fix?.accuracyMeters ?? null;
      if (!location) {
        setGpsFailed(true);
        setMode(item.elder.location ? 'home' : 'typed');
        setBusy(false);
        return;
      }
    } else if (mode === 'home') location = item.elder.location ?? null;
    else location = parseLatLng(typed);
    if (!location) {
      setBusy(false);
      return;
    }
    const ok = await act({
      run: () =>
        kind === 'check-in'
          ? post('/visits/check-in', { orderId: item.orderId, location, ...(accuracy !== null ? { accuracyMeters: accuracy } : {}) })
          : post(`/visits/${item.visitId}/check-out`, { location, ...(accuracy !== null ? { accuracyMeters: accuracy } : {}) }),
      done: kind === 'check-in' ? t('已签到，开始服务', 'Checked in') : t('已签退，服务完成', 'Checked out'),
    });
    setBusy(false);
    if (ok) onClose(true);
  };
  return (
    <Modal
      open
      title={kind === 'check-in' ? t('到达签到', 'Check in') : t('服务完成签退', 'Check out')}
      okText={t('提交', 'Submit')}
      cancelText={t('取消', 'Cancel')}
      confirmLoading={busy}
      onOk={submit}
      onCancel={() => onClose(false)}
      okButtonProps={{ disabled: mode === 'typed' && !parseLatLng(typed) }}
    >
      {gpsFailed && <Alert type="warning" showIcon style={{ marginBottom: 12 }} title={t('无法获取手机定位，请选择其他方式。', 'Could not get your position; choose another way.')} />}
      <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)}>
        <Space direction="vertical">
          <Radio value="gps">{t('使用手机定位（推荐）', 'Use my phone’s position (recommended)')}</Radio>
          {item.elder.location && <Radio value="home">{t('演示：使用老人住址位置', 'Demo: use the elder’s home position')}</Radio>}
          <Radio value="typed">{t('手动输入坐标（纬度, 经度）', 'Type coordinates (lat, lng)')}</Radio>
        </Space>
      </Radio.Group>
      {mode === 'typed' && <Input style={{ marginTop: 12 }} placeholder="39.6309, 118.1802" value={typed} onChange={(e) => setTyped(e.target.value)} />}
      {mode !== 'gps' && <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>{t('手动位置会被标记，由机构人工核验。', 'A typed position is marked and reviewed by staff.')}</Typography.Paragraph>}
    </Modal>
  );
}

