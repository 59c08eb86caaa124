import { EnvironmentOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Input, Layout, List, Modal, Radio, Space, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { LangSwitch, UserBox } from '../../components/AppLayout';
import { isMissingEndpoint } from '../../api/errors';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { chinaTime } from '../../lib/format';
import { currentPosition, parseLatLng, type LatLng } from '../../lib/geo';
import { useI18n } from '../../lib/i18n';
import { label, ORDER_STATE_COLORS, ORDER_STATES } from '../../lib/labels';
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
interface DayItem {
  orderId: string;
  visitId?: string | null;
  itemCode: string;
  itemName?: string;
  elderId: string;
  elderName?: string;
  address?: string;
  homeAddress?: string;
  home?: LatLng;
  state: string;
  window?: { from: string; to: string; asap: boolean };
  bookedMinutes?: number;
}

const WORKING = ['ACCEPTED', 'EN_ROUTE', 'CHECKED_IN'];
const DONE_TODAY = ['CHECKED_OUT', 'VERIFIED', 'FLAGGED', 'COMPLETED', 'RATED'];

/** My day: dispatch's /my-day when it exists, else my own orders (dispatch scopes them to me), open ones first. */
async function loadMyDay(): Promise<DayItem[]> {
  try {
    const r = await get<unknown>('/my-day');
    return itemsOf<DayItem>(Array.isArray(r) ? r : ((r as { items?: unknown })?.items ?? (r as { orders?: unknown })?.orders ?? r));
  } catch (e) {
    if (!isMissingEndpoint(e)) throw e;
  }
  const today = chinaTime(new Date().toISOString()).slice(0, 10);
  const mine = itemsOf<DayItem & { placedAt: string }>(await get<unknown>(`/orders${qs({ pageSize: 100 })}`));
  return mine
    .filter((o) => WORKING.includes(o.state) || (DONE_TODAY.includes(o.state) && chinaTime(o.placedAt).slice(0, 10) === today))
    .sort((a, b) => Number(DONE_TODAY.includes(a.state)) - Number(DONE_TODAY.includes(b.state)) || a.placedAt.localeCompare(b.placedAt));
}

/** Mobile-width: the caregiver works from a phone at the door. */
export function CaregiverPage() {
  const { t } = useI18n();
  const offers = useApi(() => get<unknown>(`/offers${qs({ mine: 1 })}`).then(itemsOf<Offer>), 'offers', 5_000);
  const day = useApi(loadMyDay, 'my-day', 10_000);
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

function MyDay({ day }: { day: { data?: DayItem[]; error: unknown; loading: boolean; reload: () => void } }) {
  const { t, lang } = useI18n();
  const itemName = useItemName();
  const [punch, setPunch] = useState<{ item: DayItem; kind: 'check-in' | 'check-out' } | null>(null);
  return (
    <>
      <AsyncView {...day} isEmpty={(d) => !d.length} emptyText={t('今天没有安排服务', 'Nothing planned today')}>
        {(rows) => (
          <List
            dataSource={rows}
            renderItem={(v) => (
              <Card style={{ marginBottom: 12 }} data-testid="day-item" data-state={v.state}>
                <Space direction="vertical" style={{ width: '100%' }}>
                  <Space style={{ justifyContent: 'space-between', width: '100%' }}>
                    <Typography.Text strong style={{ fontSize: 18 }}>
                      {v.itemName ?? itemName(v.itemCode)}
                    </Typography.Text>
                    <Tag color={ORDER_STATE_COLORS[v.state]}>{label(ORDER_STATES, v.state, lang)}</Tag>
                  </Space>
                  <Typography.Text>{[v.elderName, v.address ?? v.homeAddress].filter(Boolean).join(' · ')}</Typography.Text>
                  {v.window && <Typography.Text type="secondary">{chinaTime(v.window.from)} – {chinaTime(v.window.to).slice(11)}</Typography.Text>}
                  {['ACCEPTED', 'EN_ROUTE', 'ASSIGNED'].includes(v.state) && (
                    <Button type="primary" size="large" block icon={<EnvironmentOutlined />} onClick={() => setPunch({ item: v, kind: 'check-in' })} data-testid="check-in">
                      {t('到达签到', 'Check in')}
                    </Button>
                  )}
                  {v.state === 'CHECKED_IN' && (
                    <Button type="primary" size="large" block icon={<EnvironmentOutlined />} onClick={() => setPunch({ item: v, kind: 'check-out' })} data-testid="check-out">
                      {t('服务完成签退', 'Check out')}
                    </Button>
                  )}
                </Space>
              </Card>
            )}
          />
        )}
      </AsyncView>
      <PunchDialog punch={punch} onClose={(changed) => (setPunch(null), changed && day.reload())} />
    </>
  );
}

/** Check-in/out: the browser's position first; when refused or unavailable, a manual fallback for the demo. */
function PunchDialog({ punch, onClose }: { punch: { item: DayItem; kind: 'check-in' | 'check-out' } | null; onClose: (changed: boolean) => void }) {
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
        setMode(item.home ? 'home' : 'typed');
        setBusy(false);
        return;
      }
    } else if (mode === 'home') location = item.home ?? null;
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
          {item.home && <Radio value="home">{t('演示：使用老人住址位置', 'Demo: use the elder’s home position')}</Radio>}
          <Radio value="typed">{t('手动输入坐标（纬度, 经度）', 'Type coordinates (lat, lng)')}</Radio>
        </Space>
      </Radio.Group>
      {mode === 'typed' && <Input style={{ marginTop: 12 }} placeholder="39.6309, 118.1802" value={typed} onChange={(e) => setTyped(e.target.value)} />}
      {mode !== 'gps' && <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>{t('手动位置会被标记，由机构人工核验。', 'A typed position is marked and reviewed by staff.')}</Typography.Paragraph>}
    </Modal>
  );
}

