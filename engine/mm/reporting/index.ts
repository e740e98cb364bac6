// Free page reporting's engine side: the device of the run's mechanism.
import type { Kernel } from '../../kernel'
import { Aerator } from './aeration'
import { PageReporting } from './page_reporting'

export type { ReportingDevice } from './device'
export { AERATOR_DELAY_NS, AERATOR_HWM } from './aeration'
export { PAGE_REPORTING_DELAY_NS } from './page_reporting'

/** Registers the run's reporting device, if any, and makes its initial request (boot memory is free by now). */
export const reporting_register = (k: Kernel): void => {
  const cfg = k.state.machine.reporting
  if (cfg === undefined) return
  const device = cfg.mechanism === 'aeration' ? new Aerator(k) : new PageReporting(k)
  k.reporting = device
  device.startup()
}
