// Machine bring-up: zone layout from the workload, watermarks and per-cpu batch sizes as the
// kernel computes them, and memblock handing every page to the buddy allocator.
import { MAX_ORDER, MIGRATE_MOVABLE } from '../../events/codecs'
import {
  DEFAULT_HINTING,
  DEFAULT_ISOLATION,
  DEFAULT_RMAP,
  ISOLATION_VARIANTS,
  RMAP_VARIANTS,
  type HintingConfig,
  type IsolationConfig,
  type MachineBooted,
  type RmapConfig,
  type ZoneShape,
} from '../../events/machine'
import { PFN_END_MAX } from '../../projections/zone/state'
import type { MachineSpec, ReportingDeviceSpec, Variants } from '../../workload/codec'
import { DEFAULT_REPORTING_DEVICE, type ReportingConfig } from '../../events/reporting'
import type { Kernel } from '../kernel'
import type { Cpu } from '../sim/cpu'
import { __free_one_page } from './page_free'
import { arch_free_page } from './hinting/essa'
import type { FreeLayout } from './bootLayout'

export const PAGE_SHIFT = 12
export const PAGES_PER_MIB = 1 << (20 - PAGE_SHIFT)
const WATERMARK_SCALE_FACTOR = 10

/**
 * Machine profiles: pageblock_order = HUGETLB_PAGE_ORDER = HPAGE_SHIFT - PAGE_SHIFT, so 9 on
 * x86 (2 MiB huge pages, arch/x86/include/asm/page_types.h) and 8 on s390 (HPAGE_SHIFT 20,
 * arch/s390/include/asm/page.h). MAX_ORDER is 11 on both (include/linux/mmzone.h; s390 does not
 * set CONFIG_FORCE_MAX_ZONEORDER).
 */
export const ARCH_PAGEBLOCK_ORDER = { x86: 9, s390: 8 } as const
export type Arch = keyof typeof ARCH_PAGEBLOCK_ORDER

/** The machine's architecture: as given, else s390 for a guest that hints (CMMA is s390's), else x86. */
export const machineArch = (m: MachineSpec): Arch => m.arch ?? (m.guestPageHinting === true ? 's390' : 'x86')

export interface LayoutError {
  readonly path: string
  readonly message: string
}

const intSqrt = (x: number): number => Math.floor(Math.sqrt(x))

/** init_per_zone_wmark_min: min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 65536]. */
export const default_min_free_kbytes = (managedPages: number): number => Math.min(65536, Math.max(128, intSqrt(managedPages * (1 << (PAGE_SHIFT - 10)) * 16)))

/** __setup_per_zone_wmarks: min in proportion to the zone's size, low and high above it. */
export const setup_per_zone_wmarks = (zonePages: readonly number[], minFreeKbytes: number) => {
  const pagesMin = minFreeKbytes >> (PAGE_SHIFT - 10)
  const lowmem = zonePages.reduce((a, b) => a + b, 0)
  return zonePages.map((managed) => {
    const min = Math.floor((pagesMin * managed) / lowmem)
    const tmp = Math.max(min >> 2, Math.floor((managed * WATERMARK_SCALE_FACTOR) / 10000))
    return { min, low: min + tmp, high: min + tmp * 2 }
  })
}

/** sysctl_lowmem_reserve_ratio by zone name (256 for DMA and DMA32, 32 above). */
const lowmemReserveRatio = (name: string): number => (name === 'DMA' || name === 'DMA32' ? 256 : 32)

/**
 * setup_per_zone_lowmem_reserve: a lower zone keeps back, from requests that could have used the
 * zones above it up to class zone j, the pages of those zones divided by its ratio.
 */
export const setup_per_zone_lowmem_reserve = (zones: readonly { name: string; pages: number }[]): number[][] => {
  const reserve = zones.map(() => new Array<number>(zones.length).fill(0))
  for (let j = 0; j < zones.length; j++) {
    let managed = zones[j]!.pages
    for (let idx = j - 1; idx >= 0; idx--) {
      reserve[idx]![j] = Math.floor(managed / lowmemReserveRatio(zones[idx]!.name))
      managed += zones[idx]!.pages
    }
  }
  return reserve
}

const rounddownPowOfTwo = (n: number): number => (n < 1 ? 0 : 2 ** Math.floor(Math.log2(n)))

/** zone_batchsize: a quarter of 1/1024 of the zone, at most 512 KiB, as 2^n - 1 (0 for tiny zones). */
export const zone_batchsize = (managedPages: number): number => {
  let batch = Math.floor(managedPages / 1024)
  if (batch * (1 << PAGE_SHIFT) > 512 * 1024) batch = (512 * 1024) >> PAGE_SHIFT
  batch = Math.floor(batch / 4)
  if (batch < 1) batch = 1
  return rounddownPowOfTwo(batch + Math.floor(batch / 2)) - 1
}

/** pageset_set_batch: high = 6 * batch, and a batch of at least one page. */
export const pageset_set_batch = (batch: number): { batch: number; high: number } => ({ batch: Math.max(1, batch), high: 6 * batch })

/** The variants of free page reporting (the rest are guest page hinting's and anonymous rmap's). */
export const REPORTING_VARIANTS = ['reporting', 'delFromBoundary', 'aerationPutBack'] as const

/** The workload's variants, by the mechanism they switch. */
export const splitVariants = (
  variants: Variants,
): {
  hinting: Partial<HintingConfig>
  rmap: Partial<RmapConfig>
  isolation: Partial<IsolationConfig>
  reporting: Pick<Variants, (typeof REPORTING_VARIANTS)[number]>
} => {
  const hinting: Record<string, string> = {}
  const rmap: Record<string, string> = {}
  const isolation: Record<string, string> = {}
  const reporting: Record<string, string> = {}
  for (const [k, v] of Object.entries(variants))
    ((REPORTING_VARIANTS as readonly string[]).includes(k)
      ? reporting
      : (RMAP_VARIANTS as string[]).includes(k)
        ? rmap
        : (ISOLATION_VARIANTS as string[]).includes(k)
          ? isolation
          : hinting)[k] = v as string
  return { hinting: hinting as Partial<HintingConfig>, rmap: rmap as Partial<RmapConfig>, isolation: isolation as Partial<IsolationConfig>, reporting }
}

/** The reporting device of a run, or null when it reports nothing (then MachineBooted has no `reporting`). */
export const reportingConfig = (v: Pick<Variants, (typeof REPORTING_VARIANTS)[number]>, device: ReportingDeviceSpec = {}): ReportingConfig | null =>
  v.reporting === undefined || v.reporting === 'off'
    ? null
    : {
        mechanism: v.reporting,
        ...DEFAULT_REPORTING_DEVICE,
        ...device,
        delFromBoundary: v.delFromBoundary ?? 'always',
        ...(v.aerationPutBack === 'pageblock' ? { putBack: 'pageblock' as const } : {}),
      }

/** Lays the zones out from the spec, or says what is wrong with it (JSON paths into the workload). */
export const layoutMachine = (
  m: MachineSpec,
  variants: Variants = {},
  path = '$.machine',
  device?: ReportingDeviceSpec,
): { boot: MachineBooted['data'] } | { errors: LayoutError[] } => {
  const errors: LayoutError[] = []
  const arch = machineArch(m)
  const pageblockOrder = ARCH_PAGEBLOCK_ORDER[arch]
  const pageblockPages = 1 << pageblockOrder
  // pageblockOrder is a geometry fact of the arch, not a knob: a value that disagrees is a
  // mistake in the workload, not a machine mmsim could boot.
  if (m.pageblockOrder !== undefined && m.pageblockOrder !== pageblockOrder)
    errors.push({
      path: `${path}.pageblockOrder`,
      message: `expected ${pageblockOrder}, pageblock_order on ${arch} (HPAGE_SHIFT ${pageblockOrder + PAGE_SHIFT}), got ${m.pageblockOrder}`,
    })
  if (m.guestPageHinting === true && arch !== 's390')
    errors.push({ path: `${path}.arch`, message: `expected "s390" with guestPageHinting: guest page hinting is s390's (ESSA, CMMA), got "${arch}"` })
  if (m.zones.length === 0) errors.push({ path: `${path}.zones`, message: 'expected at least one zone' })
  if (m.zones.length > 4) errors.push({ path: `${path}.zones`, message: 'expected at most 4 zones' })
  const names = new Set<string>()
  let next = 0
  const sizes: { name: string; startPfn: number; pages: number }[] = []
  m.zones.forEach((z, i) => {
    const zp = `${path}.zones[${i}]`
    if (names.has(z.name)) errors.push({ path: `${zp}.name`, message: `zone name "${z.name}" is used twice` })
    names.add(z.name)
    if ((z.pages === undefined) === (z.mib === undefined)) {
      errors.push({ path: zp, message: 'expected exactly one of "pages" and "mib"' })
      return
    }
    const pages = z.pages ?? z.mib! * PAGES_PER_MIB
    const startPfn = z.startPfn ?? next
    if (startPfn < next) errors.push({ path: `${zp}.startPfn`, message: `expected at least ${next}, the end of the zone before, got ${startPfn}` })
    if (startPfn % pageblockPages !== 0) errors.push({ path: `${zp}.startPfn`, message: `expected a multiple of the pageblock size ${pageblockPages}, got ${startPfn}` })
    if (pages % pageblockPages !== 0)
      errors.push({
        path: z.pages !== undefined ? `${zp}.pages` : `${zp}.mib`,
        message: `expected a size that is a multiple of the pageblock size (${pageblockPages} pages), got ${pages} pages`,
      })
    sizes.push({ name: z.name, startPfn, pages })
    next = startPfn + pages
  })
  if (m.pcpBatch !== undefined && m.pcpHigh !== undefined && m.pcpHigh < m.pcpBatch)
    errors.push({ path: `${path}.pcpHigh`, message: `expected at least pcpBatch (${m.pcpBatch}): pageset_set_batch keeps high >= batch, got ${m.pcpHigh}` })
  if (next > PFN_END_MAX) errors.push({ path: `${path}.zones`, message: `expected at most ${PFN_END_MAX} frames in all, got ${next}` })
  if (errors.length > 0) return { errors }
  const minFreeKbytes = m.minFreeKbytes ?? default_min_free_kbytes(sizes.reduce((a, z) => a + z.pages, 0))
  const wmarks = setup_per_zone_wmarks(
    sizes.map((z) => z.pages),
    minFreeKbytes,
  )
  const reserve = setup_per_zone_lowmem_reserve(sizes)
  const zones: ZoneShape[] = sizes.map((z, i) => {
    const dflt = pageset_set_batch(zone_batchsize(z.pages))
    return { ...z, watermarks: wmarks[i]!, lowmemReserve: reserve[i]!, pcp: { batch: m.pcpBatch ?? dflt.batch, high: m.pcpHigh ?? dflt.high } }
  })
  const { hinting: hintingVariants, rmap: rmapVariants, isolation: isolationVariants, reporting: reportingVariants } = splitVariants(variants)
  const hinting: HintingConfig | null = m.guestPageHinting ? { ...DEFAULT_HINTING, ...hintingVariants } : null
  const boot: MachineBooted['data'] = { cpus: m.cpus, pageblockOrder, zones, pfnEnd: next, hinting }
  // Recorded only when the workload switches it, so that runs of workloads that do not keep the
  // MachineBooted they always had (absent means DEFAULT_RMAP).
  if (Object.keys(rmapVariants).length > 0) boot.rmap = { ...DEFAULT_RMAP, ...rmapVariants }
  if (Object.keys(isolationVariants).length > 0) boot.isolation = { ...DEFAULT_ISOLATION, ...isolationVariants }
  const reporting = reportingConfig(reportingVariants, device)
  if (reporting !== null) boot.reporting = reporting
  return { boot }
}

/**
 * memblock_free_all / __free_pages_memory: each zone's range goes to the buddy allocator in
 * the largest naturally aligned blocks that fit (at most MAX_ORDER - 1), every pageblock
 * MIGRATE_MOVABLE as memmap_init_zone leaves it.
 */
export const memblock_free_all = (k: Kernel, cpu: Cpu, layouts?: readonly (FreeLayout | null)[]): void => {
  for (const z of k.state.zone.zones) {
    const layout = layouts?.[z.idx] ?? null
    if (layout !== null) {
      free_to_layout(k, cpu, z.idx, layout)
      continue
    }
    let start = z.startPfn
    while (start < z.endPfn) {
      let order = start === 0 ? MAX_ORDER - 1 : Math.min(MAX_ORDER - 1, 31 - Math.clz32(start & -start))
      while (start + (1 << order) > z.endPfn) order--
      arch_free_page(k, cpu, start, order)
      __free_one_page(k, cpu, z.idx, start, order, MIGRATE_MOVABLE, 'boot')
      start += 1 << order
    }
  }
}

/**
 * Boot into given free lists (machine.freeAreas): the pageblocks take their migratetypes, then
 * each free block is handed over where the layout put it; no two are buddies, so none merges.
 */
const free_to_layout = (k: Kernel, cpu: Cpu, zone: number, layout: FreeLayout): void => {
  // One event per MAX_ORDER block at most: a stored event spans at most that many frames.
  const piece = 1 << (MAX_ORDER - 1)
  for (const r of layout.runs)
    if (r.mt !== MIGRATE_MOVABLE)
      for (let p = r.pfn; p < r.pfn + r.pages; p += piece) k.emit(cpu, 'PageblockMigratetypeSet', { zone, pfn: p, pages: Math.min(piece, r.pfn + r.pages - p), mt: r.mt })
  for (const b of layout.blocks) {
    arch_free_page(k, cpu, b.pfn, b.order)
    __free_one_page(k, cpu, zone, b.pfn, b.order, b.mt, 'boot')
  }
}
