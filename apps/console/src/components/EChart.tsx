import type { EChartsOption as FullOption } from 'echarts';
import { BarChart, CustomChart, GaugeChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

// Only what the console draws: keeps ECharts' share of the bundle to about a third.
echarts.use([BarChart, CustomChart, GaugeChart, LineChart, PieChart, ScatterChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export type EChartsOption = FullOption;

interface Props {
  option: EChartsOption;
  height?: number | string;
  /** Shown to screen readers and used by the browser tests to find a chart. */
  label: string;
  onClick?: (params: echarts.ECElementEvent) => void;
}

/**
 * ECharts in React without a wrapper library: one instance per element, options replaced on
 * change (notMerge so removed series disappear), resized with its box, disposed on unmount.
 */
export function EChart({ option, height = 320, label, onClick }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  useEffect(() => {
    if (!el.current) return undefined;
    const instance = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = instance;
    instance.on('click', (p) => clickRef.current?.(p as echarts.ECElementEvent));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={el} role="img" aria-label={label} data-chart={label} className="yy-chart" style={{ width: '100%', height }} />;
}
