"""Case forms."""

from flask_wtf import FlaskForm
from wtforms import SelectField


class AssignLawyerForm(FlaskForm):
    lawyer = SelectField("External lawyer", choices=[], validate_choice=True)
