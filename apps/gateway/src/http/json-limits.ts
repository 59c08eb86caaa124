import { AppError } from '@yiyang/service-kit';

/**
 * Bounds on a parsed JSON body beyond its byte size (OWASP API4, unrestricted resource
 * consumption): no array longer than `maxArray`, no nesting deeper than `maxDepth`. Returns the
 * offending path, or undefined.
 */
export function jsonShapeProblem(value: unknown, maxArray: number, maxDepth: number): AppError | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      return new AppError('VALIDATION.TOO_DEEP', 400, `${path || 'body'}: nested deeper than ${maxDepth} levels`, { field: path || undefined, messageZh: `嵌套层级超过 ${maxDepth}` });
    }
    if (Array.isArray(v)) {
      if (v.length > maxArray) {
        return new AppError('VALIDATION.ARRAY_TOO_LONG', 400, `${path || 'body'}: at most ${maxArray} items`, { field: path || undefined, messageZh: `数组最多 ${maxArray} 项` });
      }
      v.forEach((item, i) => stack.push({ v: item, path: path ? `${path}.${i}` : String(i), depth: depth + 1 }));
    } else {
      for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: path ? `${path}.${k}` : k, depth: depth + 1 });
    }
  }
  return undefined;
}
