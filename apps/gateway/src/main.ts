import 'reflect-metadata';
import { runGateway } from './bootstrap';

void runGateway();
