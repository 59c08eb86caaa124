import { Button, Descriptions, Drawer, Form, Input, Select, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, qs, totalOf } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { chinaTime } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ELDER_CATEGORIES, label } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

export interface Elder {
  id: string;
  name: string;
  gender: string;
  birthDate: string;
  idCardNumber: string;
  phone: string | null;
  regionCode: string;
  homeAddress: string;
  home?: { lat: number; lng: number };
  categories: string[];
  capabilityLevel: string | null;
  latestAssessment: { level?: string; total?: number; assessedOn?: string } | null;
  status: string;
  guardians: { guardianId: string; name: string; relation: string; phone: string }[];
}
interface Assessment {
  id: string;
  standard: string;
  standardVersion: string;
  assessedOn: string;
  total: number;
  level: string;
  levelZh: string;
  subtotals: Record<string, { score: number; max: number; labelZh: string }>;
  adjustments: { code: string; labelZh: string }[];
}
interface Device {
  deviceId: string;
  kind: string;
  kindLabel?: { zh: string; en: string };
  externalId?: string;
  model?: string;
  active?: boolean;
  battery?: number | null;
  lastSeenAt?: string;
  boundSince?: string | null;
}

const LEVELS: Record<string, { zh: string; en: string }> = {
  INTACT: { zh: '能力完好', en: 'Intact' },
  MILD: { zh: '轻度失能', en: 'Mild impairment' },
  MODERATE: { zh: '中度失能', en: 'Moderate' },
  SEVERE: { zh: '重度失能', en: 'Severe' },
  COMPLETE_LOSS: { zh: '完全失能', en: 'Complete loss' },
};

export function EldersPage() {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<{ name?: string; idCardNumber?: string; category?: string }>({});
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const list = useApi(() => get<unknown>(`/elders${qs({ ...filter, page, pageSize: 20 })}`), JSON.stringify([filter, page]));

  return (
    <div>
      <Typography.Title level={3}>{t('老人档案', 'Elders')}</Typography.Title>
      <Form
        layout="inline"
        onFinish={(v: { q?: string; category?: string }) => {
          const q = (v.q ?? '').trim();
          setPage(1);
          setFilter({ ...(/^\d{6,}[\dXx]?$/.test(q) ? { idCardNumber: q } : q ? { name: q } : {}), category: v.category });
        }}
        style={{ marginBottom: 12 }}
      >
        <Form.Item name="q">
          <Input.Search placeholder={t('姓名或身份证号', 'Name or ID number')} allowClear style={{ width: 260 }} data-testid="elder-search" />
        </Form.Item>
        <Form.Item name="category">
          <Select
            allowClear
            placeholder={t('重点类别', 'Priority group')}
            style={{ width: 160 }}
            options={Object.keys(ELDER_CATEGORIES).map((c) => ({ value: c, label: label(ELDER_CATEGORIES, c, lang) }))}
          />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('查询', 'Search')}
        </Button>
      </Form>
      <AsyncView {...list}>
        {(res) => (
          <Table<Elder>
            rowKey="id"
            size="middle"
            dataSource={itemsOf<Elder>(res)}
            loading={list.loading}
            pagination={{ current: page, pageSize: 20, total: totalOf(res), onChange: setPage, showSizeChanger: false }}
            onRow={(r) => ({ onClick: () => setOpen(r.id), style: { cursor: 'pointer' } })}
            columns={[
              { title: t('姓名', 'Name'), dataIndex: 'name' },
              { title: t('性别', 'Gender'), dataIndex: 'gender', render: (g: string) => (g === 'F' || g === 'FEMALE' ? t('女', 'F') : t('男', 'M')) },
              { title: t('出生日期', 'Born'), dataIndex: 'birthDate' },
              { title: t('身份证号', 'ID number'), dataIndex: 'idCardNumber' },
              { title: t('类别', 'Groups'), dataIndex: 'categories', render: (cs: string[]) => cs.map((c) => <Tag key={c}>{label(ELDER_CATEGORIES, c, lang)}</Tag>) },
              { title: t('能力等级', 'Capability'), dataIndex: 'capabilityLevel', render: (l: string | null) => label(LEVELS, l, lang) },
              { title: t('住址', 'Address'), dataIndex: 'homeAddress', ellipsis: true },
            ]}
          />
        )}
      </AsyncView>
      <Drawer open={!!open} onClose={() => setOpen(null)} size={720} title={t('老人详情', 'Elder profile')} destroyOnHidden>
        {open && <ElderProfile id={open} />}
      </Drawer>
    </div>
  );
}

export function ElderProfile({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const elder = useApi(() => get<Elder>(`/elders/${id}`), id);
  const assessments = useApi(() => get<unknown>(`/elders/${id}/assessments`).then(itemsOf<Assessment>), id);
  const devices = useApi(() => get<unknown>(`/devices${qs({ elderId: id })}`).then(itemsOf<Device>), id);
  return (
    <AsyncView {...elder}>
      {(e) => (
        <>
          <Descriptions bordered size="small" column={2} data-testid="elder-profile">
            <Descriptions.Item label={t('姓名', 'Name')}>{e.name}</Descriptions.Item>
            <Descriptions.Item label={t('出生日期', 'Born')}>{e.birthDate}</Descriptions.Item>
            <Descriptions.Item label={t('身份证号（已脱敏）', 'ID number (masked)')}>{e.idCardNumber}</Descriptions.Item>
            <Descriptions.Item label={t('电话（已脱敏）', 'Phone (masked)')}>{e.phone ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('住址', 'Address')} span={2}>
              {e.homeAddress}
            </Descriptions.Item>
            <Descriptions.Item label={t('类别', 'Groups')} span={2}>
              {e.categories.map((c) => (
                <Tag key={c}>{label(ELDER_CATEGORIES, c, lang)}</Tag>
              ))}
            </Descriptions.Item>
            <Descriptions.Item label={t('能力等级', 'Capability')}>{label(LEVELS, e.capabilityLevel, lang)}</Descriptions.Item>
            <Descriptions.Item label={t('状态', 'Status')}>{e.status}</Descriptions.Item>
          </Descriptions>
          <Tabs
            style={{ marginTop: 16 }}
            items={[
              {
                key: 'assessments',
                label: t('能力评估记录', 'Assessments'),
                children: (
                  <AsyncView {...assessments} isEmpty={(a) => !a.length} emptyText={t('尚无评估记录', 'No assessments yet')}>
                    {(rows) => (
                      <Table<Assessment>
                        rowKey="id"
                        size="small"
                        pagination={false}
                        dataSource={rows}
                        columns={[
                          { title: t('评估日期', 'Date'), dataIndex: 'assessedOn' },
                          { title: t('标准', 'Standard'), render: (_, a) => `${a.standard} ${a.standardVersion}` },
                          { title: t('总分', 'Total'), dataIndex: 'total', render: (v: number) => `${v} / 90` },
                          { title: t('等级', 'Level'), render: (_, a) => (lang === 'en' ? label(LEVELS, a.level, lang) : a.levelZh) },
                          {
                            title: t('分项', 'Indicators'),
                            render: (_, a) =>
                              Object.values(a.subtotals ?? {})
                                .map((s) => `${s.labelZh} ${s.score}/${s.max}`)
                                .join('；'),
                          },
                        ]}
                      />
                    )}
                  </AsyncView>
                ),
              },
              {
                key: 'guardians',
                label: t('监护人', 'Guardians'),
                children: (
                  <Table
                    rowKey="guardianId"
                    size="small"
                    pagination={false}
                    dataSource={e.guardians}
                    locale={{ emptyText: t('未登记监护人', 'No guardians on file') }}
                    columns={[
                      { title: t('姓名', 'Name'), dataIndex: 'name' },
                      { title: t('关系', 'Relation'), dataIndex: 'relation' },
                      { title: t('电话（已脱敏）', 'Phone (masked)'), dataIndex: 'phone' },
                    ]}
                  />
                ),
              },
              {
                key: 'devices',
                label: t('智能设备', 'Devices'),
                children: (
                  <AsyncView {...devices} isEmpty={(d) => !d.length} emptyText={t('未绑定设备', 'No devices bound')}>
                    {(rows) => (
                      <Table<Device>
                        rowKey="deviceId"
                        size="small"
                        pagination={false}
                        dataSource={rows}
                        columns={[
                          { title: t('设备', 'Device'), render: (_, d) => (d.kindLabel ? (lang === 'en' ? d.kindLabel.en : d.kindLabel.zh) : d.kind) },
                          { title: t('编号', 'Serial'), dataIndex: 'externalId' },
                          { title: t('型号', 'Model'), dataIndex: 'model' },
                          { title: t('电量', 'Battery'), dataIndex: 'battery', render: (b?: number | null) => (b === undefined || b === null ? '—' : `${b}%`) },
                          { title: t('绑定时间', 'Bound since'), dataIndex: 'boundSince', render: (v?: string | null) => chinaTime(v) },
                        ]}
                      />
                    )}
                  </AsyncView>
                ),
              },
            ]}
          />
        </>
      )}
    </AsyncView>
  );
}
