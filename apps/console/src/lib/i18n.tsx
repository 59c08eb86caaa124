import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

export type Lang = 'zh-CN' | 'en';

const STORAGE_KEY = 'yiyang.lang';

export interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  /** Both wordings side by side at the call site: `t('老人档案', 'Elders')`. zh-CN is the default. */
  t: (zh: string, en: string) => string;
}

const initialLang = (): Lang => {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
};

/** The current language for code outside React (the API client sends it as Accept-Language). */
let currentLang: Lang = typeof localStorage === 'undefined' ? 'zh-CN' : initialLang();
export const getLang = (): Lang => currentLang;

const I18nContext = createContext<I18n>({ lang: 'zh-CN', setLang: () => undefined, t: (zh) => zh });

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(currentLang);
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang: (next) => {
        currentLang = next;
        try {
          localStorage.setItem(STORAGE_KEY, next);
        } catch {
          /* private mode: the choice lasts for this page */
        }
        document.documentElement.lang = next;
        setLangState(next);
      },
      t: (zh, en) => (lang === 'en' ? en : zh),
    }),
    [lang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export const useI18n = (): I18n => useContext(I18nContext);
