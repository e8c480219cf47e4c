// The studio's modeler bundle (built by `make -C tools/vendor-bpmn-js`, committed as
// webapp/static/vendor/bpmn-js-studio/studio.min.js): bpmn-js Modeler + NavigatedViewer, the
// properties panel, the moddle of the spiffworkflow extensions certflow's diagrams use and the
// certflow properties (service-task operator and parameters; message payload and variable; user-task form, due and follow-up
// times, guard, validator, instructions with their preview; lane role; called process and
// decision; the rules an element implements), bpmnlint in the browser (bpmn-js-bpmnlint with the rules of
// .bpmnlintrc packed by bpmnlint-pack-config into build/, see the Makefile) and the token
// simulation (bpmn-js-token-simulation) for training and review, its texts in the page's language
// (certflow-simulation-texts.js).
import Modeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import spiffModdle from './spiffworkflow.json';
import CertflowPropertiesModule from './certflow-properties.jsx';
import LintModule from 'bpmn-js-bpmnlint';
import TokenSimulationModule from 'bpmn-js-token-simulation';
import SimulationTextsModule from './certflow-simulation-texts.js';
import lintConfig from '../build/bpmnlint-config.js';

window.CertflowStudio = {
  Modeler,
  NavigatedViewer,
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CertflowPropertiesModule,
  spiffModdle,
  LintModule,
  lintConfig,
  TokenSimulationModule,
  SimulationTextsModule,
};
