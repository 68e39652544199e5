export { EventLog, type EventLogProps } from './event-log';
