import { DownloadOutlined, InboxOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Descriptions, Progress, Space, Table, Typography, Upload } from 'antd';
import { useState } from 'react';
import { API_BASE, currentSession, download, refresh } from '../../api/client';
import { ApiError, plainMessage } from '../../api/errors';
import { getLang, useI18n } from '../../lib/i18n';

interface ImportReport {
  importId: string;
  fileName: string;
  totalRows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: { row: number; column: string; reason: string; reasonZh?: string; code: string }[];
  errorsOmitted: number;
  errorReportUrl: string;
  durationMs: number;
}

/** XHR, not fetch: the browser reports upload progress only there. */
function uploadWithProgress(file: File, onProgress: (sent: number) => void, token: string | undefined): Promise<ImportReport> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API_BASE}/elders/import`);
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('accept-language', getLang());
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new TypeError('network'));
    xhr.onload = () => {
      let body: unknown = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        body = { message: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as ImportReport);
      else reject(new ApiError(xhr.status, body as object));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export function ImportPage() {
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [phase, setPhase] = useState<'idle' | 'uploading' | 'processing' | 'done'>('idle');
  const [sent, setSent] = useState(0);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<unknown>(null);

  const start = async (file: File) => {
    setError(null);
    setReport(null);
    setSent(0);
    setPhase('uploading');
    try {
      await refresh();
      const r = await uploadWithProgress(
        file,
        (s) => {
          setSent(s);
          if (s >= 1) setPhase('processing');
        },
        currentSession()?.accessToken,
      );
      setReport(r);
      setPhase('done');
      if (r.failed === 0) message.success(t(`导入完成，共 ${r.totalRows} 行`, `Imported ${r.totalRows} rows`));
    } catch (e) {
      setError(e);
      setPhase('idle');
    }
  };

  const errorPath = (r: ImportReport) => (r.errorReportUrl.startsWith('/api/') ? r.errorReportUrl.slice(API_BASE.length) : r.errorReportUrl.startsWith('/') ? r.errorReportUrl : `/elders/import/${r.importId}/errors.csv`);

  return (
    <div>
      <Typography.Title level={3}>{t('花名册导入', 'Roster import')}</Typography.Title>
      <Card>
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph>
            {t(
              '上传 Excel（.xlsx）或 CSV 花名册。同一身份证号视为同一人：已有档案会更新，不会重复登记。有问题的行不会导入，可下载错误报告修改后重新上传。',
              'Upload an .xlsx or .csv roster. The same ID number is the same person: existing records are updated, never duplicated. Rows with problems are skipped; download the error report, fix them and upload again.',
            )}
          </Typography.Paragraph>
          <Button icon={<DownloadOutlined />} onClick={() => download('/elders/import/template.xlsx', 'roster-template.xlsx').catch(setError)}>
            {t('下载导入模板', 'Download the template')}
          </Button>
          <Upload.Dragger
            accept=".csv,.xlsx"
            multiple={false}
            showUploadList={false}
            disabled={phase === 'uploading' || phase === 'processing'}
            beforeUpload={(file) => {
              void start(file);
              return false;
            }}
          >
            <p className="ant-upload-drag-icon">
              <InboxOutlined />
            </p>
            <p className="ant-upload-text">{t('点击或拖拽花名册文件到这里', 'Click or drop the roster file here')}</p>
          </Upload.Dragger>
          {phase !== 'idle' && phase !== 'done' && (
            <div data-testid="import-progress">
              <Progress percent={Math.round(sent * 100)} status="active" />
              <Typography.Text type="secondary">
                {phase === 'uploading' ? t('正在上传…', 'Uploading…') : t('已上传，正在逐行校验并导入，大文件可能需要几分钟，请勿关闭页面…', 'Uploaded; checking and importing row by row — large files take a few minutes, keep this page open…')}
              </Typography.Text>
            </div>
          )}
          {!!error && <Alert type="error" showIcon title={plainMessage(error, lang)} />}
        </Space>
      </Card>
      {report && (
        <Card style={{ marginTop: 16 }} title={t('导入结果', 'Result')} data-testid="import-report">
          <Descriptions size="small" column={3} bordered>
            <Descriptions.Item label={t('文件', 'File')}>{report.fileName}</Descriptions.Item>
            <Descriptions.Item label={t('总行数', 'Rows')}>{report.totalRows}</Descriptions.Item>
            <Descriptions.Item label={t('用时', 'Took')}>{(report.durationMs / 1000).toFixed(1)} s</Descriptions.Item>
            <Descriptions.Item label={t('新增', 'Created')}>{report.created}</Descriptions.Item>
            <Descriptions.Item label={t('更新', 'Updated')}>{report.updated}</Descriptions.Item>
            <Descriptions.Item label={t('无变化', 'Unchanged')}>{report.unchanged}</Descriptions.Item>
            <Descriptions.Item label={t('失败', 'Failed')}>
              <Typography.Text type={report.failed ? 'danger' : undefined}>{report.failed}</Typography.Text>
            </Descriptions.Item>
          </Descriptions>
          {report.failed > 0 && (
            <>
              <Space style={{ margin: '12px 0' }}>
                <Button type="primary" icon={<DownloadOutlined />} onClick={() => download(errorPath(report), `import-${report.importId}-errors.csv`).catch(setError)}>
                  {t('下载全部错误行（CSV）', 'Download every row error (CSV)')}
                </Button>
                {report.errorsOmitted > 0 && <Typography.Text type="secondary">{t(`另有 ${report.errorsOmitted} 条错误见报告`, `${report.errorsOmitted} more in the report`)}</Typography.Text>}
              </Space>
              <Table
                size="small"
                rowKey={(r) => `${r.row}-${r.column}-${r.code}`}
                dataSource={report.errors}
                pagination={{ pageSize: 20 }}
                columns={[
                  { title: t('行号', 'Row'), dataIndex: 'row', width: 80 },
                  { title: t('列', 'Column'), dataIndex: 'column', width: 160 },
                  { title: t('问题', 'Problem'), render: (_, r) => (lang === 'en' ? r.reason : (r.reasonZh ?? r.reason)) },
                ]}
              />
            </>
          )}
        </Card>
      )}
    </div>
  );
}
