// The two printf conversions the kernel's /proc files use here: %Ns (right-aligned) and %-Ns.
export const padLeft = (v: string | number, width: number): string => String(v).padStart(width, ' ')
export const padRight = (v: string | number, width: number): string => String(v).padEnd(width, ' ')
