import { App } from 'antd';
import { plainMessage } from '../api/errors';
import { useI18n } from './i18n';

/**
 * Runs an action that changes something, after a confirmation when it cannot be undone, and
 * reports the outcome in plain words. Returns true when it went through.
 */
export function useAction() {
  const { modal, message } = App.useApp();
  const { t, lang } = useI18n();
  return async function act(opts: { confirm?: { title: string; content?: string; danger?: boolean }; run: () => Promise<unknown>; done?: string }): Promise<boolean> {
    if (opts.confirm) {
      const confirm = opts.confirm;
      // Explicit callbacks rather than the hook's thenable, whose resolution differs across antd versions.
      const ok = await new Promise<boolean>((resolve) => {
        modal.confirm({
          title: confirm.title,
          content: confirm.content,
          okText: t('确定', 'Confirm'),
          cancelText: t('取消', 'Cancel'),
          okButtonProps: { danger: confirm.danger },
          onOk: () => resolve(true),
          onCancel: () => resolve(false),
        });
      });
      if (!ok) return false;
    }
    try {
      await opts.run();
      message.success(opts.done ?? t('操作成功', 'Done'));
      return true;
    } catch (e) {
      message.error(plainMessage(e, lang), 6);
      return false;
    }
  };
}
