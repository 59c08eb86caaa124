import { useEffect, useState } from 'react';
import { get, itemsOf } from '../api/client';
import { useI18n } from './i18n';

interface Item {
  code: string;
  nameZh: string;
  nameEn: string;
}

let cache: Promise<Map<string, Item>> | null = null;

/** The service menu's names by item code (orders carry only the code); loaded once per page load. */
export function useItemName(): (code: string) => string {
  const { lang } = useI18n();
  const [names, setNames] = useState<Map<string, Item> | null>(null);
  useEffect(() => {
    cache ??= get<unknown>('/catalogue/items?pageSize=200')
      .then((r) => new Map(itemsOf<Item>(r).map((i) => [i.code, i])))
      .catch(() => {
        cache = null;
        return new Map<string, Item>();
      });
    let live = true;
    void cache.then((m) => live && setNames(m));
    return () => {
      live = false;
    };
  }, []);
  return (code: string) => {
    const i = names?.get(code);
    return i ? (lang === 'en' ? i.nameEn : i.nameZh) : code;
  };
}
