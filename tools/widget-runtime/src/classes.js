// The fixed class map of the light runtime: ONLY the widget classes the book uses.
// To support a new control, import its Model (and View) class from its
// @jupyter-widgets/controls/lib/widget_* module below and add both to CONTROLS
// (the key is the _model_name / _view_name in the saved widget state), then
// `make vendor` and add a case to tests/browser/test_site.py.
import { LayoutModel, LayoutView, StyleModel, StyleView } from '@jupyter-widgets/base';
import { BoxModel, BoxView, HBoxModel, HBoxView, VBoxModel, VBoxView } from '@jupyter-widgets/controls/lib/widget_box';
import {
  DropdownModel, DropdownView, SelectMultipleModel, SelectMultipleView,
  SelectionSliderModel, SelectionSliderView, ToggleButtonsModel, ToggleButtonsView, ToggleButtonsStyleModel,
} from '@jupyter-widgets/controls/lib/widget_selection';
import {
  CheckboxModel, CheckboxView, CheckboxStyleModel, ToggleButtonModel, ToggleButtonView, ToggleButtonStyleModel,
} from '@jupyter-widgets/controls/lib/widget_bool';
import { ButtonModel, ButtonView, ButtonStyleModel } from '@jupyter-widgets/controls/lib/widget_button';
import {
  TextModel, TextView, TextStyleModel, HTMLModel, HTMLView, HTMLStyleModel, LabelModel, LabelView, LabelStyleModel,
} from '@jupyter-widgets/controls/lib/widget_string';
import {
  FloatTextModel, BoundedFloatTextModel, FloatTextView, FloatSliderModel, FloatSliderView,
} from '@jupyter-widgets/controls/lib/widget_float';
import {
  IntTextModel, BoundedIntTextModel, IntTextView, IntSliderModel, IntSliderView, SliderStyleModel,
} from '@jupyter-widgets/controls/lib/widget_int';
import { LinkModel, DirectionalLinkModel } from '@jupyter-widgets/controls/lib/widget_link';
import { DescriptionStyleModel } from '@jupyter-widgets/controls/lib/widget_description';

export const BASE = { LayoutModel, LayoutView, StyleModel, StyleView };

export const CONTROLS = {
  BoxModel, BoxView, HBoxModel, HBoxView, VBoxModel, VBoxView,
  DropdownModel, DropdownView, SelectMultipleModel, SelectMultipleView,
  SelectionSliderModel, SelectionSliderView, ToggleButtonsModel, ToggleButtonsView, ToggleButtonsStyleModel,
  CheckboxModel, CheckboxView, CheckboxStyleModel, ToggleButtonModel, ToggleButtonView, ToggleButtonStyleModel,
  ButtonModel, ButtonView, ButtonStyleModel,
  TextModel, TextView, TextStyleModel, HTMLModel, HTMLView, HTMLStyleModel, LabelModel, LabelView, LabelStyleModel,
  FloatTextModel, BoundedFloatTextModel, FloatTextView, FloatSliderModel, FloatSliderView,
  IntTextModel, BoundedIntTextModel, IntTextView, IntSliderModel, IntSliderView, SliderStyleModel,
  LinkModel, DirectionalLinkModel, DescriptionStyleModel,
};
