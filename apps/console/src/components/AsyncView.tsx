import { Alert, Button, Empty, Result, Skeleton } from 'antd';
import type { ReactNode } from 'react';
import { isForbidden, isMissingEndpoint, plainMessage } from '../api/errors';
import { useI18n } from '../lib/i18n';

interface Props<T> {
  data?: T | undefined;
  error: unknown;
  loading: boolean;
  reload?: () => void;
  /** True when the data holds nothing to show. */
  isEmpty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ReactNode;
}

/** Loading, error (plain words), empty and "this service is not available yet" in one place. */
export function AsyncView<T>({ data, error, loading, reload, isEmpty, emptyText, children }: Props<T>) {
  const { t, lang } = useI18n();
  if (error && data === undefined) {
    if (isForbidden(error)) return <Result status="403" title={t('无权访问', 'No access')} subTitle={plainMessage(error, lang)} />;
    if (isMissingEndpoint(error))
      return (
        <Empty
          description={t('该服务暂未开通或正在启动，暂无数据。', 'This service is not available yet; there is nothing to show.')}
          data-testid="service-unavailable"
        >
          {reload && <Button onClick={reload}>{t('重试', 'Retry')}</Button>}
        </Empty>
      );
    return (
      <Alert
        type="error"
        showIcon
        title={plainMessage(error, lang)}
        action={reload && <Button onClick={reload}>{t('重试', 'Retry')}</Button>}
      />
    );
  }
  if (data === undefined) return loading ? <Skeleton active paragraph={{ rows: 4 }} /> : null;
  if (isEmpty?.(data)) return <Empty description={emptyText ?? t('暂无数据', 'Nothing here yet')} />;
  return <>{children(data)}</>;
}

export function ErrorLine({ error }: { error: unknown }) {
  const { lang } = useI18n();
  if (!error) return null;
  return <Alert type="error" showIcon title={plainMessage(error, lang)} style={{ marginBottom: 12 }} />;
}
